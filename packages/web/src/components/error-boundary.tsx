// Keeps one page's render error from blanking the whole app: the error is shown where the page was.
import { Component, type ReactNode } from "react";

/** Props of {@link ErrorBoundary}. */
export interface ErrorBoundaryProps {
  children: ReactNode;
  /** A change of this value clears the error (e.g. the path: another page may work). */
  resetKey?: string;
}

/** Shows a render error of its children instead of them. */
export class ErrorBoundary extends Component<
  ErrorBoundaryProps,
  { error: Error | undefined; key: string | undefined }
> {
  override state: { error: Error | undefined; key: string | undefined } = {
    error: undefined,
    key: this.props.resetKey,
  };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(
    props: ErrorBoundaryProps,
    state: { error: Error | undefined; key: string | undefined },
  ) {
    return props.resetKey === state.key ? null : { error: undefined, key: props.resetKey };
  }

  override render() {
    if (this.state.error === undefined) return this.props.children;
    return (
      <div className="page narrow" role="alert">
        <h1>Something went wrong</h1>
        <p>This page failed to show: {this.state.error.message}</p>
        <p>Reload the page; if it happens again, report it with what you did.</p>
      </div>
    );
  }
}
