// The subcommands. Each returns the process exit code or throws peer::Fatal.
#pragma once

#include "util.hpp"

namespace peer {

int run_pub(const Options& options);
int run_sub(const Options& options);
int run_reply(const Options& options);
int run_request(const Options& options);
int run_pong(const Options& options);
int run_ping(const Options& options);

} // namespace peer
