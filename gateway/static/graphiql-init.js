// Starts GraphiQL on the gateway's own page: every file comes from the gateway (no third-party host), so it works
// offline and under the page's Content-Security-Policy (script-src 'self', no inline script).
// Sign in by putting {"Authorization": "Bearer <token>"} in the Headers tab (`make token ROLE=... ORG=...`).
(function () {
  var params = new URLSearchParams(window.location.search);
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false,
    query: params.get("query") || undefined,
    defaultQuery: "{ actionPlan { title initiatives { number title budgetDkk period { start end } } } }\n",
  }));
})();
