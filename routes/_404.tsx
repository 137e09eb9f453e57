import type { PageProps, RouteConfig } from "../console/pages.ts";

export const config: RouteConfig = { public: true, title: "Not found" };

export default function NotFound({ path }: PageProps) {
  return (
    <div class="panel">
      <h2>Page not found</h2>
      <p>
        There is no page at <code>{path}</code>. <a href="/">Back to the dashboard</a>
      </p>
    </div>
  );
}
