// Starts GraphiQL on the Playground page. It is a file of its own, never an
// inline script, so the page's Content-Security-Policy can say script-src 'self'.
// The page passes its settings as JSON in the data-config attribute of #graphiql.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var config = JSON.parse(root.getAttribute('data-config'));
  var props = {
    fetcher: GraphiQL.createFetcher({ url: new URL(config.endpoint, window.location.href).href }),
  };
  if (config.headers) {
    props.defaultHeaders = JSON.stringify(config.headers, null, 2);
    props.defaultEditorToolsVisibility = 'headers';
  }
  if (config.query) {
    props.defaultQuery = config.query;
  }
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
