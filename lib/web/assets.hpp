// The page's files (lib/web/assets/), compiled into the binary by
// embed_assets.cmake, and the Content-Type each is served with.
#pragma once
#include <optional>
#include <string_view>

namespace p2p::web {

// The bytes of assets/<name>; nullopt if there is no such asset.
std::optional<std::string_view> find_asset(std::string_view name);
// "text/html; charset=utf-8" ... by extension; "application/octet-stream" otherwise.
std::string_view asset_type(std::string_view name);

}  // namespace p2p::web
