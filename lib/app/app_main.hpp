// What every executable does around its real work: turn an escaping error into
// one line on stderr and the documented exit code.
#pragma once
#include <functional>
#include <string>

namespace p2p {

// Runs body (under the allocator policy of allocator_policy.hpp); returns its exit code,
// or the Error's code after printing "error: ...".
// on_error (optional) also hears the message and code, e.g. to emit a JSON event.
int guarded_main(const char* program, const std::function<int()>& body,
                 const std::function<void(const std::string&, int)>& on_error = {});

}  // namespace p2p
