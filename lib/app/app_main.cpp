// guarded_main: the single place where exceptions become exit codes.
#include "app/app_main.hpp"

#include "app/allocator_policy.hpp"

#include <cstdio>
#include <new>

#include "base/log_level.hpp"
#include "base/error.hpp"

namespace p2p {

int guarded_main(const char* program, const std::function<int()>& body,
                 const std::function<void(const std::string&, int)>& on_error) {
  apply_allocator_policy();  // before the first large block
  std::string message;
  int code = 0;
  try {
    return body();
  } catch (const Error& e) {
    message = e.what();
    code = static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    message = "out of memory";
    code = static_cast<int>(ExitCode::internal);
  } catch (const std::exception& e) {
    message = std::string("internal error: ") + e.what();
    code = static_cast<int>(ExitCode::internal);
  }
  // The journal files it as an error ("<3>"); elsewhere the line reads as it always did.
  std::fprintf(stderr, "%s%s: error: %s\n", journal_prefix(LogLevel::error).c_str(), program, message.c_str());
  if (on_error) on_error(message, code);
  return code;
}

}  // namespace p2p
