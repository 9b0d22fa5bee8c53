// The common (non-sharded) state: JSON on the host side, a pickled dict in torch formats, with "args" as an
// argparse.Namespace as Megatron stores it (formats.md 1.6, 3.2).
#pragma once

#include "pickle.hpp"

#include <nlohmann/json.hpp>

namespace torchfmt {

using Json = nlohmann::json;

// Parses JSON text, turning a syntax error into Error(`code`, "<what>: ...").
Json parse_json(const std::string& text, const std::string& what, msw_status_code code);

// Emits `v` (any JSON value); at the top level (`top` true) the "args" member becomes a Namespace.
void pickle_json(PickleWriter& w, const Json& v, bool top);
// Emits one top-level member (key, then value; "args" as a Namespace), for callers that add their own.
void pickle_common_member(PickleWriter& w, const std::string& key, const Json& value);

// Converts a value tree back to JSON. Namespaces become objects, torch dtypes and other globals their
// dotted names, PosixPath its text, tensors {"__tensor__": dtype, "shape": [...]}, other allow-listed
// objects {"__class__": ..., "args": ..., "state": ...}. Deeper than kMaxNesting (or cyclic): an error.
Json to_json(const PyValue* v, const std::string& what, int depth = 0);

}  // namespace torchfmt
