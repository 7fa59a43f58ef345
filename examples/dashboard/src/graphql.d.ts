// build.mjs loads the operations (src/operations/*.graphql) as text: each
// import is the document to send. Their result and variable types are in
// generated/graphql.ts.
declare module '*.graphql' {
  const document: string;
  export default document;
}
