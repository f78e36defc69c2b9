// What every executable does around its real work: turn an escaping error into
// one line on stderr and the documented exit code.
#pragma once
#include <functional>

namespace p2p {

// Runs body; returns its exit code, or the Error's code after printing "error: ...".
int guarded_main(const char* program, const std::function<int()>& body);

}  // namespace p2p
