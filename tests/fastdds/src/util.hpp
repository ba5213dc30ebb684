// Small helpers shared by the subcommands: errors with exit codes, hex, number
// parsing, command-line options and line-oriented stdout.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace peer {

// Exit codes of the program.
constexpr int EXIT_OK = 0;
constexpr int EXIT_FAILED = 1;   // timeout / nothing matched the expectation
constexpr int EXIT_USAGE = 2;    // bad arguments, bad input file, bad environment
constexpr int EXIT_NO_MATCH = 3; // `pub`: some writer never matched a reader

// Thrown to end the program with a message on stderr and the given exit code.
class Fatal : public std::runtime_error
{
public:
    Fatal(int code, const std::string& message)
        : std::runtime_error(message)
        , code_(code)
    {
    }

    int code() const
    {
        return code_;
    }

private:
    int code_;
};

// A usage / input error: exit code 2.
inline Fatal usage_error(const std::string& message)
{
    return Fatal(EXIT_USAGE, message);
}

std::string to_hex(const uint8_t* data, size_t len);
inline std::string to_hex(const std::vector<uint8_t>& bytes)
{
    return to_hex(bytes.data(), bytes.size());
}

// Parses an even-length string of hex digits (either case). Returns std::nullopt
// and sets `error` when the text is not valid hex.
std::optional<std::vector<uint8_t>> from_hex(const std::string& text, std::string& error);

// Strict integer parsing: the whole string must be a decimal number in range.
std::optional<int64_t> parse_int(const std::string& text, int64_t min, int64_t max);
// Strict non-negative decimal number of seconds (fractions allowed).
std::optional<double> parse_seconds(const std::string& text);
// A number of seconds for messages: "30", "0.5".
std::string seconds_text(double seconds);

// Options of one subcommand: `--name value` pairs. Unknown or repeated options and
// missing values are usage errors.
class Options
{
public:
    // `known` lists the accepted option names (without the leading dashes).
    Options(const std::vector<std::string>& args, const std::vector<std::string>& known,
            const std::string& command);

    bool has(const std::string& name) const;
    std::string get_string(const std::string& name) const;  // required
    int64_t get_int(const std::string& name, int64_t min, int64_t max) const;  // required
    int64_t get_int(const std::string& name, int64_t min, int64_t max, int64_t fallback) const;
    double get_seconds(const std::string& name, double fallback) const;

private:
    std::string command_;
    std::map<std::string, std::string> values_;
};

using Clock = std::chrono::steady_clock;

inline Clock::time_point deadline_after(double seconds)
{
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(seconds));
}

// Thread-safe protocol output: one line at a time on stdout, flushed after each.
// Lines emitted before `ready()` is called are held back and written right after
// the READY line, so READY is always the first line of a command that uses it.
class Output
{
public:
    static Output& instance();

    void line(const std::string& text);
    // Prints READY (then any held-back lines) and switches to direct output.
    void ready();
    // Commands that never print READY call this once at the start.
    void direct();

private:
    Output() = default;
    void write_nts(const std::string& text);

    std::mutex mutex_;
    bool holding_ = true;
    std::vector<std::string> held_;
};

// Diagnostics on stderr, prefixed with the program name.
void diag(const std::string& message);

} // namespace peer
