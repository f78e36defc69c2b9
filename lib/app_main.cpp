// guarded_main: the single place where exceptions become exit codes.
#include "app_main.hpp"

#include <cstdio>
#include <new>

#include "error.hpp"

namespace p2p {

int guarded_main(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", program);
    return static_cast<int>(ExitCode::internal);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", program, e.what());
    return static_cast<int>(ExitCode::internal);
  }
}

}  // namespace p2p
