// sustainml-fastdds-peer: a Fast DDS 2.9 peer that the sustainml-rs tests and
// benchmarks drive as a subprocess. See ../README.md for the protocol.
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fastdds/dds/log/Log.hpp>
#include <fastdds/dds/log/StdoutErrConsumer.hpp>

#include "commands.hpp"
#include "golden.hpp"
#include "util.hpp"

namespace {

const char* const USAGE =
        "usage: sustainml-fastdds-peer SUBCOMMAND [OPTIONS]\n"
        "\n"
        "  golden DIR\n"
        "      write the golden payloads of tests/fastdds/GOLDEN.md into DIR\n"
        "  pub --input FILE [--match-timeout SECS=30] [--linger SECS=2]\n"
        "      publish the 'TOPIC HEX' lines of FILE\n"
        "  sub [--topics all|T1,T2,...] --expect N [--timeout SECS=30]\n"
        "      print 'TOPIC HEX' for every sample until each topic has N distinct ones\n"
        "  reply --node-id N [--count K=1] [--timeout SECS=30]\n"
        "      answer K configuration requests for node N\n"
        "  request --node-id N --transaction-id T --configuration TEXT [--timeout SECS=30]\n"
        "      send one configuration request and print the response\n"
        "  pong [--timeout SECS=60]\n"
        "      echo bench/ping to bench/pong until a sample with problem_id 0\n"
        "  ping --size BYTES --count N [--warmup W=50] [--match-timeout SECS=30]\n"
        "      round-trip benchmark against a pong\n"
        "\n"
        "Environment: SUSTAINML_DOMAIN_ID (0..232, default 0),\n"
        "             SUSTAINML_FASTDDS_TRANSPORT (default | udp).\n"
        "Exit codes: 0 ok, 1 timeout/failure, 2 usage or input error, 3 pub without readers.\n";

// Fast DDS logs go to stderr only: stdout carries the protocol.
void route_fastdds_logs_to_stderr()
{
    using eprosima::fastdds::dds::Log;
    auto consumer = std::make_unique<eprosima::fastdds::dds::StdoutErrConsumer>();
    consumer->stderr_threshold(Log::Kind::Info);
    Log::ClearConsumers();
    Log::RegisterConsumer(std::move(consumer));
    Log::SetVerbosity(Log::Kind::Warning);
}

int dispatch(const std::string& command, const std::vector<std::string>& args)
{
    using namespace peer;
    if (command == "golden")
    {
        if (args.size() != 1)
        {
            throw usage_error("golden: expected exactly one argument, the output directory");
        }
        return run_golden(args[0]);
    }
    if (command == "pub")
    {
        return run_pub(Options(args, {"input", "match-timeout", "linger"}, command));
    }
    if (command == "sub")
    {
        return run_sub(Options(args, {"topics", "expect", "timeout"}, command));
    }
    if (command == "reply")
    {
        return run_reply(Options(args, {"node-id", "count", "timeout"}, command));
    }
    if (command == "request")
    {
        return run_request(Options(args, {"node-id", "transaction-id", "configuration", "timeout"}, command));
    }
    if (command == "pong")
    {
        return run_pong(Options(args, {"timeout"}, command));
    }
    if (command == "ping")
    {
        return run_ping(Options(args, {"size", "count", "warmup", "match-timeout"}, command));
    }
    throw usage_error("unknown subcommand '" + command + "'\n" + USAGE);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
    {
        std::cerr << USAGE;
        return peer::EXIT_USAGE;
    }
    std::string command = argv[1];
    if (command == "-h" || command == "--help" || command == "help")
    {
        std::cout << USAGE;
        return peer::EXIT_OK;
    }
    std::vector<std::string> args(argv + 2, argv + argc);

    int code;
    try
    {
        route_fastdds_logs_to_stderr();
        code = dispatch(command, args);
    }
    catch (const peer::Fatal& fatal)
    {
        peer::diag(fatal.what());
        code = fatal.code();
    }
    catch (const std::exception& e)
    {
        peer::diag(std::string("error: ") + e.what());
        code = peer::EXIT_FAILED;
    }
    eprosima::fastdds::dds::Log::Flush();
    return code;
}
