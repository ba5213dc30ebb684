// The golden values of tests/fastdds/GOLDEN.md, built with the generated C++ types.
#pragma once

#include <string>

namespace peer {

// `golden DIR`: writes <Type>-<variant>.cdr (and .keyhash for keyed types) for the
// 12 IDL structs and the variants `default` and `full`. Opens no participant.
int run_golden(const std::string& dir);

} // namespace peer
