// Package policy parses and evaluates Alibaba Cloud RAM permission policies,
// the JSON documents that decide whether a RAM user may call an alikafka
// (or RAM) API action on a resource.
//
// The package is pure: it does no I/O and imports only the standard library,
// so the API layer can call it on every request and tests can table-drive and
// fuzz it. Mapping API names to RAM action names and building resource ARNs
// stays in the API layer, because RAM action names are not API names (for
// example GetInstanceList is authorized by alikafka:ListInstance).
//
// # Language
//
// A document is {"Version":"1","Statement":[...]}; each statement has an
// Effect ("Allow" or "Deny"), exactly one of Action/NotAction, exactly one of
// Resource/NotResource and an optional Condition block. Parse is strict so that
// a policy accepted here is one RAM would accept, and every rejection says
// exactly what is wrong (it becomes the message of a MalformedPolicyDocument
// error on the wire). The rules, and where they come from:
//
//   - Element names, operator names and "Allow"/"Deny" are case-sensitive
//     (RAM "Policy structure and syntax", doc 93739, general syntax rules), so
//     "effect" or "allow" is rejected rather than silently accepted.
//   - Version must be the string "1"; Statement must be a non-empty array
//     (93739 grammar: <statement_block> = "Statement" : [ <statement>, ... ]).
//     A bare statement object is therefore rejected.
//   - Action, NotAction, Resource and NotResource take a string or an array of
//     strings; both forms mean the same thing (93739). Resource is required in
//     identity policies (93739 marks it "Required: Yes"); NotResource appears
//     in the older 93739 grammar and is accepted as its alternative.
//   - Principal and Sid are not part of the identity-policy grammar and are
//     rejected as unknown elements.
//   - The whole document may be at most MaxDocumentLength characters
//     (CreatePolicy PolicyDocument, Resource Management API reference: 1 to
//     6,144 characters; an older RAM page said 2,048).
//
// # Matching
//
// In Action, Resource and StringLike values "*" matches any run of characters
// (including none, and including ":") and "?" matches exactly one character
// (93739, conditional operators page). Actions are compared case-insensitively
// because RAM documents Action values as "not case-sensitive in most cases"
// (policy elements, doc 93738). Resources are compared case-sensitively: RAM
// documents no case folding for ARNs, and instance IDs and OSS-style relative
// IDs are case-sensitive names, so folding could widen a grant.
//
// # Conditions
//
// Multiple operators in a Condition block, and multiple keys under one
// operator, must all hold (AND); multiple values for one key are alternatives
// (OR). Condition key names are case-insensitive ("acs:SourceIp" and
// "acs:sourceip" name the same key). The request context may carry several
// values for one key; a positive operator holds when any context value matches
// any policy value. Each negated operator (StringNotEquals,
// StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals, DateNotEquals,
// NotIpAddress) is exactly the negation of its positive twin, so it holds only
// when no context value matches any policy value (NOR) — and therefore it
// holds when the key is absent from the context. RAM does not document the
// absent-key case; this is the behaviour of AWS IAM, whose semantics RAM
// otherwise mirrors, and it makes the common "Deny unless NotIpAddress"
// pattern fail closed when the source IP is unknown. All other operators
// (including Bool and IpAddress) are false for an absent key.
//
// Date values must be ISO 8601 date-times with a zone, as RFC 3339 profiles
// them (2026-01-01T00:00:00Z, 2019-08-12T17:00:00+08:00 from RAM's
// "access Alibaba Cloud in a specified period of time" example, doc 141578).
// Epoch seconds are not accepted because no RAM page shows them.
//
// # Evaluation
//
// Evaluate implements RAM's identity-policy logic (policy evaluation process,
// doc 93740): a matching Deny in any attached policy wins; otherwise a
// matching Allow allows; otherwise the request is implicitly denied.
package policy
