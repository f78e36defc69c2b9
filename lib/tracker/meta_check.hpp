// The verdict on a published meta: the same validation every tool uses
// (parse_meta), kept as the catalog stores it (its summary and its bytes).
#pragma once
#include <optional>
#include <string>

#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

struct MetaCheck {
  std::optional<PublishedMeta> meta;  // valid: its summary and the bytes as published
  bool is_private = false;
  std::string error;      // invalid: why (the parse_meta message)
  bool internal = false;  // the check itself failed (not the meta's fault): 500
};

// Parses and validates `text`; it ends up in the verdict's meta when valid.
MetaCheck check_published_meta(std::string text);

}  // namespace p2p::tracker
