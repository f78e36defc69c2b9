// UTF-8 validity: names go into JSON (metas, events, the tracker's catalog),
// which must be valid UTF-8; a name that is not is refused where it enters.
#pragma once
#include <string_view>

namespace p2p {

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s);

}  // namespace p2p
