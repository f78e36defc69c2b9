// check_published_meta: parse_meta, with its verdict as a value.
#include "tracker/meta_check.hpp"

#include "base/error.hpp"
#include "format/meta.hpp"

namespace p2p::tracker {

MetaCheck check_published_meta(std::string text) {
  MetaCheck out;
  try {
    Meta m = parse_meta(text, "published meta");  // the same validation every tool uses
    out.is_private = m.is_private;
    out.meta = PublishedMeta::of(m, std::move(text));
  } catch (const Error& e) {
    out.error = e.what();
    out.internal = e.code() != ExitCode::bad_meta;
  } catch (const std::exception& e) {  // std::bad_alloc: the tracker's trouble, not the meta's
    out.error = e.what();
    out.internal = true;
  }
  return out;
}

}  // namespace p2p::tracker
