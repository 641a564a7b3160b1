// The web app's build: React, the SDK and the protocol compiled from source, output in dist/ (served
// by `kiln serve`). `npm run dev -w @kiln/web` proxies the API to a server on KILN_DEV_API.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const src = (pkg: string) => fileURLToPath(new URL(`../${pkg}/src/index.ts`, import.meta.url));
const api = process.env.KILN_DEV_API ?? "http://127.0.0.1:8787";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  resolve: { alias: { "@kiln/sdk": src("sdk"), "@kiln/protocol": src("protocol") } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { "/api": { target: api, ws: true }, "/backend-api": api } },
});
