// What becomes of a coroutine's exception: the completion handlers given to
// asio::co_spawn (they take the coroutine's std::exception_ptr, null if it ended well).
// No Asio here: the handlers are plain callables.
#pragma once
#include <cstdio>
#include <exception>
#include <string>

namespace p2p {

// A loop whose failure is fatal (an accept loop): rethrown, so it surfaces from
// io_context::run() and the program ends with it.
inline void rethrow_from_run(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// A task whose failure ends only itself (one connection, a receive loop the process can
// live without): "<what>: <error>" on stderr, and the rest runs on.
inline auto log_and_go_on(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "%s: %s\n", what.c_str(), ex.what());
    } catch (...) {
      std::fprintf(stderr, "%s: an exception that is not a std::exception\n", what.c_str());
    }
  };
}

}  // namespace p2p
