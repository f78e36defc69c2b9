// HTTP status texts and the JSON error body every refusal uses.
#include "net/http_types.hpp"

#include <nlohmann/json.hpp>

#include "format/json_text.hpp"

namespace p2p::net {

std::string_view status_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

void error_response(HttpResponse& out, int status, std::string_view message) {
  using nlohmann::json;
  out.status = status;
  out.content_type = kJsonType;
  // Client-supplied text may be any bytes; never let JSON encoding throw on it.
  out.body = json_text(json{{"error", message}});
}

}  // namespace p2p::net
