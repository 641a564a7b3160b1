// A link that downloads text made in the page (a Blob URL, revoked when the text changes or the link goes).
import { useEffect, useState } from "react";

/** Props of {@link DownloadLink}. */
export interface DownloadLinkProps {
  content: string;
  filename: string;
  /** MIME type (default text/plain). */
  type?: string;
  label: string;
}

/** `<a download>` for `content`. */
export function DownloadLink({ content, filename, type = "text/plain", label }: DownloadLinkProps) {
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    const made = URL.createObjectURL(new Blob([content], { type }));
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [content, type]);
  if (url === undefined) return null;
  return (
    <a className="button" href={url} download={filename}>
      {label}
    </a>
  );
}
