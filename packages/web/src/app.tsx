// The app shell. Replaced by the real routes as the pages land.
export function App() {
  return <main>Kiln</main>;
}
