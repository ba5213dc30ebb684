#include "util.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace peer {

std::string to_hex(const uint8_t* data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.resize(len * 2);
    for (size_t i = 0; i < len; ++i)
    {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    return out;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
    {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f')
    {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F')
    {
        return c - 'A' + 10;
    }
    return -1;
}

std::optional<std::vector<uint8_t>> from_hex(const std::string& text, std::string& error)
{
    if (text.size() % 2 != 0)
    {
        error = "odd number of hex digits (" + std::to_string(text.size()) + ")";
        return std::nullopt;
    }
    std::vector<uint8_t> bytes(text.size() / 2);
    for (size_t i = 0; i < bytes.size(); ++i)
    {
        int hi = hex_value(text[2 * i]);
        int lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
        {
            size_t at = hi < 0 ? 2 * i : 2 * i + 1;
            error = "invalid hex digit '" + std::string(1, text[at]) + "' at offset " + std::to_string(at);
            return std::nullopt;
        }
        bytes[i] = static_cast<uint8_t>((hi << 4) | lo);
    }
    return bytes;
}

std::optional<int64_t> parse_int(const std::string& text, int64_t min, int64_t max)
{
    if (text.empty())
    {
        return std::nullopt;
    }
    size_t start = (text[0] == '-' || text[0] == '+') ? 1 : 0;
    if (start == text.size())
    {
        return std::nullopt;
    }
    for (size_t i = start; i < text.size(); ++i)
    {
        if (text[i] < '0' || text[i] > '9')
        {
            return std::nullopt;
        }
    }
    errno = 0;
    char* end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (errno == ERANGE || *end != '\0' || value < min || value > max)
    {
        return std::nullopt;
    }
    return static_cast<int64_t>(value);
}

std::optional<double> parse_seconds(const std::string& text)
{
    if (text.empty() || text[0] == '-' || text[0] == '+' || text[0] == ' ')
    {
        return std::nullopt;
    }
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(value >= 0.0) || value > 1e7)
    {
        return std::nullopt;
    }
    return value;
}

std::string seconds_text(double seconds)
{
    char text[32];
    std::snprintf(text, sizeof(text), "%g", seconds);
    return text;
}

Options::Options(const std::vector<std::string>& args, const std::vector<std::string>& known,
        const std::string& command)
    : command_(command)
{
    for (size_t i = 0; i < args.size(); ++i)
    {
        const std::string& arg = args[i];
        if (arg.rfind("--", 0) != 0 || arg.size() == 2)
        {
            throw usage_error(command + ": unexpected argument '" + arg + "'");
        }
        std::string name = arg.substr(2);
        std::string value;
        bool has_value = false;
        auto eq = name.find('=');
        if (eq != std::string::npos)
        {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        bool is_known = false;
        for (const auto& k : known)
        {
            is_known = is_known || k == name;
        }
        if (!is_known)
        {
            throw usage_error(command + ": unknown option '--" + name + "'");
        }
        if (!has_value)
        {
            if (i + 1 >= args.size())
            {
                throw usage_error(command + ": option '--" + name + "' needs a value");
            }
            value = args[++i];
        }
        if (!values_.emplace(name, value).second)
        {
            throw usage_error(command + ": option '--" + name + "' given twice");
        }
    }
}

bool Options::has(const std::string& name) const
{
    return values_.count(name) != 0;
}

std::string Options::get_string(const std::string& name) const
{
    auto it = values_.find(name);
    if (it == values_.end())
    {
        throw usage_error(command_ + ": missing required option '--" + name + "'");
    }
    return it->second;
}

int64_t Options::get_int(const std::string& name, int64_t min, int64_t max) const
{
    std::string text = get_string(name);
    auto value = parse_int(text, min, max);
    if (!value)
    {
        throw usage_error(command_ + ": '--" + name + " " + text + "' is not an integer in " +
                      std::to_string(min) + ".." + std::to_string(max));
    }
    return *value;
}

int64_t Options::get_int(const std::string& name, int64_t min, int64_t max, int64_t fallback) const
{
    return has(name) ? get_int(name, min, max) : fallback;
}

double Options::get_seconds(const std::string& name, double fallback) const
{
    if (!has(name))
    {
        return fallback;
    }
    std::string text = get_string(name);
    auto value = parse_seconds(text);
    if (!value)
    {
        throw usage_error(command_ + ": '--" + name + " " + text + "' is not a number of seconds");
    }
    return *value;
}

Output& Output::instance()
{
    static Output output;
    return output;
}

void Output::write_nts(const std::string& text)
{
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void Output::line(const std::string& text)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (holding_)
    {
        held_.push_back(text);
    }
    else
    {
        write_nts(text);
    }
}

void Output::ready()
{
    std::lock_guard<std::mutex> lock(mutex_);
    write_nts("READY");
    holding_ = false;
    for (const auto& text : held_)
    {
        write_nts(text);
    }
    held_.clear();
}

void Output::direct()
{
    std::lock_guard<std::mutex> lock(mutex_);
    holding_ = false;
    for (const auto& text : held_)
    {
        write_nts(text);
    }
    held_.clear();
}

void diag(const std::string& message)
{
    std::cerr << "sustainml-fastdds-peer: " << message << std::endl;
}

} // namespace peer
