// The GraphQL of a small Relay app over the gateway, as a frontend would
// write it: a candidate card that Relay can refetch by its global id
// (@refetchable makes relay-compiler generate a Query.node query using
// Node.globalId), and a list of the newest candidates paged backwards with
// last/before (@connection, as usePaginationFragment's loadPrevious uses).
// relay-compiler reads these tagged templates; ../relay.test.mjs runs the
// operations it generates against the demo gateway.
const { graphql } = require('relay-runtime');

exports.candidateCard = graphql`
  fragment CandidateCard_candidate on Candidate @refetchable(queryName: "CandidateCardRefetchQuery") {
    id
    name
    headline
    job {
      title
    }
  }
`;

exports.candidateList = graphql`
  fragment CandidateList_query on Query
  @refetchable(queryName: "CandidateListPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 3 }, cursor: { type: "String" }) {
    candidates(last: $count, before: $cursor) @connection(key: "CandidateList_candidates") {
      pageInfo {
        hasPreviousPage
        startCursor
      }
      edges {
        node {
          globalId
          name
          ...CandidateCard_candidate
        }
      }
    }
  }
`;
