// The web app's entry: applies the saved (or system) theme, loads the styles, mounts <App/>.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { applyInitialTheme } from "./shell/theme.ts";
import "./styles.css";

applyInitialTheme();
const root = document.getElementById("root");
if (root !== null) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
