import type { PageProps, RouteConfig } from "../console/pages.ts";

export const config: RouteConfig = { public: true, title: "Error" };

export default function ServerError(_props: PageProps) {
  return (
    <div class="panel">
      <h2>Something went wrong</h2>
      <p>The console could not render this page. The error has been logged on the server.</p>
      <p>
        <a href="/">Back to the dashboard</a>
      </p>
    </div>
  );
}
