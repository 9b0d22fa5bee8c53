#include "common_state.hpp"

namespace torchfmt {

Json parse_json(const std::string& text, const std::string& what, msw_status_code code) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    throw Error(code, what + ": not valid JSON: " + e.what());
  }
}

void pickle_json(PickleWriter& w, const Json& v, bool top) {
  switch (v.type()) {
    case Json::value_t::null: w.none(); break;
    case Json::value_t::boolean: w.boolean(v.get<bool>()); break;
    case Json::value_t::number_integer: w.integer(v.get<int64_t>()); break;
    case Json::value_t::number_unsigned: {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX))
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "common state: integer " + std::to_string(u) + " exceeds 64-bit signed");
      w.integer(static_cast<int64_t>(u));
      break;
    }
    case Json::value_t::number_float: w.floating(v.get<double>()); break;
    case Json::value_t::string: w.str(v.get_ref<const std::string&>()); break;
    case Json::value_t::array: {
      w.empty_list();
      if (v.empty()) break;
      // Python batches APPENDS by 1000; one batch per 1000 keeps the stack small for torch's unpickler too.
      size_t k = 0;
      for (const Json& x : v) {
        if (k % 1000 == 0) w.mark();
        pickle_json(w, x, false);
        if (++k % 1000 == 0) w.appends();
      }
      if (k % 1000) w.appends();
      break;
    }
    case Json::value_t::object: {
      w.empty_dict();
      if (v.empty()) break;
      size_t k = 0;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (k % 1000 == 0) w.mark();
        if (top) {
          pickle_common_member(w, it.key(), it.value());
        } else {
          w.str(it.key());
          pickle_json(w, it.value(), false);
        }
        if (++k % 1000 == 0) w.setitems();
      }
      if (k % 1000) w.setitems();
      break;
    }
    default:
      throw Error(MSW_STATUS_INVALID_ARGUMENT, "common state: JSON value of an unsupported kind");
  }
}

void pickle_common_member(PickleWriter& w, const std::string& key, const Json& value) {
  w.str(key);
  if (key == "args" && value.is_object()) {
    // argparse.Namespace: NEWOBJ with no arguments, then BUILD with the attribute dict.
    w.global("argparse", "Namespace");
    w.empty_tuple();
    w.newobj();
    pickle_json(w, value, false);
    w.build();
  } else {
    pickle_json(w, value, false);
  }
}

Json to_json(const PyValue* v, const std::string& what, int depth) {
  if (depth > kMaxNesting)
    throw Error(MSW_STATUS_IO, what + ": values nested deeper than " + std::to_string(kMaxNesting) +
                                   " levels (or a cycle)");
  switch (v->kind) {
    case PyKind::None: return nullptr;
    case PyKind::Bool: return v->b;
    case PyKind::Int: return v->i;
    case PyKind::Float: return v->f;
    case PyKind::Str: return v->s;
    case PyKind::Bytes: {
      static const char* hex = "0123456789abcdef";
      std::string h;
      for (unsigned char c : v->s) {
        h += hex[c >> 4];
        h += hex[c & 15];
      }
      return Json{{"__bytes_hex__", h}};
    }
    case PyKind::List:
    case PyKind::Tuple: {
      Json a = Json::array();
      for (const PyValue* x : v->items) a.push_back(to_json(x, what, depth + 1));
      return a;
    }
    case PyKind::Dict: {
      Json o = Json::object();
      for (size_t k = 0; k + 1 < v->items.size(); k += 2) {
        const PyValue* key = v->items[k];
        std::string name;
        if (key->is(PyKind::Str)) name = key->s;
        else if (key->is(PyKind::Int)) name = std::to_string(key->i);  // optimizer state is keyed by ints
        else throw Error(MSW_STATUS_IO, what + ": a dict key at pickle byte " + std::to_string(key->offset) +
                                            " is neither a string nor an int");
        o[name] = to_json(v->items[k + 1], what, depth + 1);
      }
      return o;
    }
    case PyKind::Global: return v->s;
    case PyKind::PersId: return Json{{"__persistent_id__", to_json(v->items[0], what, depth + 1)}};
    case PyKind::Object: {
      if (v->s == "argparse.Namespace" || v->s == "types.SimpleNamespace") {
        if (!v->state) return Json::object();
        if (!v->state->is(PyKind::Dict))
          throw Error(MSW_STATUS_IO, what + ": " + v->s + " state is not a dict");
        return to_json(v->state, what, depth + 1);
      }
      if (v->s == "pathlib.PosixPath") {
        std::string p;
        for (const PyValue* part : v->args->items) {
          if (!part->is(PyKind::Str)) throw Error(MSW_STATUS_IO, what + ": PosixPath part is not a string");
          if (!p.empty() && p.back() != '/') p += '/';
          p += part->s;
        }
        return p;
      }
      if (v->s == "torch._utils._rebuild_tensor_v2" && v->args->items.size() >= 3) {
        Json t{{"__tensor__", nullptr}, {"shape", to_json(v->args->items[2], what, depth + 1)}};
        const PyValue* pid = v->args->items[0];
        if (pid->is(PyKind::PersId) && pid->items[0]->is(PyKind::Tuple) && pid->items[0]->items.size() > 1)
          t["__tensor__"] = pid->items[0]->items[1]->s;
        return t;
      }
      Json o{{"__class__", v->s}, {"args", to_json(v->args, what, depth + 1)}};
      if (v->state) o["state"] = to_json(v->state, what, depth + 1);
      return o;
    }
  }
  return nullptr;
}

}  // namespace torchfmt
