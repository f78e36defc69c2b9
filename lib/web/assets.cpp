// asset_type: Content-Type by extension (the bytes are in embedded_assets.cpp).
#include "web/assets.hpp"

namespace p2p::web {

std::string_view asset_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

}  // namespace p2p::web
