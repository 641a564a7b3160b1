// The settings page: model provider keys and personal API tokens (the scopes a new token may have are
// those of the signed-in user: a token never grants more than its maker has).
import "../usage/usage.css";
import "./settings.css";
import type { KilnClient } from "@kiln/sdk";
import { useEffect, useState } from "react";
import { ApiTokens } from "./api-tokens.tsx";
import { ProviderKeys } from "./provider-keys.tsx";

/** The settings page. */
export function SettingsView({ client }: { client: KilnClient }) {
  const [scopes, setScopes] = useState<readonly string[]>(["read", "write"]);
  useEffect(() => {
    const abort = new AbortController();
    client.me({ signal: abort.signal }).then(
      (me) => setScopes(me.user.scopes),
      // Without an answer, offer the scopes every user has.
      () => undefined,
    );
    return () => abort.abort();
  }, [client]);
  return (
    <div className="page narrow settings-page">
      <h1>Settings</h1>
      <ProviderKeys client={client} />
      <ApiTokens client={client} grantable={scopes} />
    </div>
  );
}
