// Starts GraphiQL on the Playground page. It is a file of its own, never an
// inline script, so the page's Content-Security-Policy can say script-src 'self'.
// The page passes its settings as JSON in the data-config attribute of #graphiql.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var config = JSON.parse(root.getAttribute('data-config'));
  var endpoint = new URL(config.endpoint, window.location.href);
  // Subscriptions go over a WebSocket to the same endpoint (graphql-transport-ws,
  // with graphql-ws bundled in GraphiQL); the headers pane travels in its
  // connection_init payload, since a browser cannot set headers on a WebSocket.
  var subscriptions = new URL(endpoint.href);
  subscriptions.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';
  var props = {
    fetcher: GraphiQL.createFetcher({ url: endpoint.href, subscriptionUrl: subscriptions.href }),
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
