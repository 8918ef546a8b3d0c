// Package console serves kafkaplane's web console under /console/ on the
// API's own listener.
//
// The console is one more API client: a user signs in with an AccessKey,
// the server keeps the key in a server-side session (memory only; the
// browser holds a random session id in an HttpOnly, SameSite=Strict
// cookie), and every action the pages take is turned into a V3-signed
// request with that key and run through the API's http.Handler in-process,
// from the browser's address. Signature, nonce, validation, RAM
// authorization, throttling and errors are therefore exactly the API's.
//
// The pages are hand-written HTML, CSS and JavaScript embedded in the
// binary; there is no build step.
package console
