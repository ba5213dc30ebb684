// pub, sub, reply and request: the interoperability subcommands.
#include "commands.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "sustainml.h"
#include "topics.hpp"

namespace peer {

namespace {

std::string trim(const std::string& text)
{
    const char* space = " \t\r\n";
    size_t begin = text.find_first_not_of(space);
    if (begin == std::string::npos)
    {
        return "";
    }
    size_t end = text.find_last_not_of(space);
    return text.substr(begin, end - begin + 1);
}

std::vector<std::string> split(const std::string& text, char separator)
{
    std::vector<std::string> parts;
    std::stringstream stream(text);
    std::string part;
    while (std::getline(stream, part, separator))
    {
        parts.push_back(part);
    }
    return parts;
}

eprosima::fastrtps::Duration_t duration_of(double seconds)
{
    auto whole = static_cast<int32_t>(seconds);
    auto nanos = static_cast<uint32_t>((seconds - whole) * 1e9);
    return eprosima::fastrtps::Duration_t(whole, nanos);
}

void sleep_seconds(double seconds)
{
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// A sample of the input file of `pub`.
struct PubLine
{
    std::string topic;
    std::unique_ptr<Sample> sample;
};

} // namespace

int run_pub(const Options& options)
{
    const std::string input = options.get_string("input");
    const double match_timeout = options.get_seconds("match-timeout", 30);
    const double linger = options.get_seconds("linger", 2);
    Output::instance().direct();

    // Parse and decode the whole file before opening the participant.
    std::ifstream file(input);
    if (!file)
    {
        throw usage_error("pub: cannot read input file '" + input + "'");
    }
    std::map<std::string, std::unique_ptr<dds::TopicDataType>> types;
    std::vector<PubLine> lines;
    std::vector<std::string> topics;  // in order of first use
    std::string text;
    for (int number = 1; std::getline(file, text); ++number)
    {
        std::string where = input + ":" + std::to_string(number) + ": ";
        text = trim(text);
        if (text.empty() || text[0] == '#')
        {
            continue;
        }
        size_t space = text.find_first_of(" \t");
        if (space == std::string::npos)
        {
            throw usage_error(where + "expected 'TOPIC HEX'");
        }
        std::string topic = text.substr(0, space);
        std::string hex = trim(text.substr(space));
        std::string type_name = type_of_topic(topic);
        if (type_name.empty())
        {
            throw usage_error(where + "unknown topic '" + topic + "'");
        }
        std::string error;
        auto bytes = from_hex(hex, error);
        if (!bytes)
        {
            throw usage_error(where + "bad hex: " + error);
        }
        auto& type = types[type_name];
        if (!type)
        {
            type.reset(make_pubsub_type(type_name));
        }
        auto sample = std::make_unique<Sample>(*type);
        if (!deserialize_payload(*type, *bytes, sample->get(), error))
        {
            throw usage_error(where + "cannot deserialize as " + type_name + ": " + error);
        }
        if (sample->serialize() != *bytes)
        {
            diag("pub: " + where + "note: Fast DDS re-serializes this " + type_name +
                    " differently (trailing bytes or non-canonical encoding)");
        }
        if (std::find(topics.begin(), topics.end(), topic) == topics.end())
        {
            topics.push_back(topic);
        }
        lines.push_back(PubLine{topic, std::move(sample)});
    }
    if (lines.empty())
    {
        throw usage_error("pub: no sample in '" + input + "'");
    }

    Notifier notifier;
    WriterMatchListener match_listener(notifier);
    Participant participant;
    std::map<std::string, dds::DataWriter*> writers;
    for (const auto& topic : topics)
    {
        writers[topic] = participant.create_writer(topic, Profile::SustainML, &match_listener);
    }

    auto unmatched = [&] {
        std::vector<std::string> out;
        for (const auto& topic : topics)
        {
            if (matched_readers(writers[topic]) == 0)
            {
                out.push_back(topic);
            }
        }
        return out;
    };
    if (!notifier.wait_until(deadline_after(match_timeout), [&] { return unmatched().empty(); }))
    {
        std::string names;
        for (const auto& topic : unmatched())
        {
            names += (names.empty() ? "" : ", ") + topic;
        }
        throw Fatal(EXIT_NO_MATCH, "pub: no reader matched within " + seconds_text(match_timeout) +
                      " s on: " + names);
    }

    for (const auto& line : lines)
    {
        if (!writers[line.topic]->write(line.sample->get()))
        {
            throw Fatal(EXIT_FAILED, "pub: write failed on " + line.topic);
        }
    }
    diag("pub: wrote " + std::to_string(lines.size()) + " samples on " + std::to_string(topics.size()) +
            " topics");

    for (const auto& topic : topics)
    {
        if (writers[topic]->wait_for_acknowledgments(duration_of(10)) != ReturnCode_t::RETCODE_OK)
        {
            diag("pub: warning: not every reader acknowledged " + topic + " within 10 s");
        }
    }
    sleep_seconds(linger);
    return EXIT_OK;
}

int run_sub(const Options& options)
{
    const std::string topic_list = options.has("topics") ? options.get_string("topics") : "all";
    const int64_t expect = options.get_int("expect", 0, 1000000);
    const double timeout = options.get_seconds("timeout", 30);

    std::vector<std::string> topics;
    if (topic_list == "all")
    {
        topics = sustainml_topics();
    }
    else
    {
        for (const auto& raw : split(topic_list, ','))
        {
            std::string topic = trim(raw);
            if (type_of_topic(topic).empty())
            {
                throw usage_error("sub: unknown topic '" + topic + "'");
            }
            if (std::find(topics.begin(), topics.end(), topic) == topics.end())
            {
                topics.push_back(topic);
            }
        }
        if (topics.empty())
        {
            throw usage_error("sub: --topics is empty");
        }
    }

    Notifier notifier;
    std::mutex state_mutex;
    bool done = false;
    std::map<std::string, std::set<std::string>> distinct;
    std::vector<std::unique_ptr<TakeAllListener>> listeners;
    for (const auto& topic : topics)
    {
        distinct[topic];
        listeners.push_back(std::make_unique<TakeAllListener>(topic, notifier,
                [&, topic](void* data, dds::TopicDataType& type) {
                    std::string hex = to_hex(serialize_payload(type, data));
                    std::lock_guard<std::mutex> lock(state_mutex);
                    if (!done)
                    {
                        Output::instance().line(topic + " " + hex);
                        distinct[topic].insert(hex);
                    }
                }));
    }
    auto complete = [&] {
        std::lock_guard<std::mutex> lock(state_mutex);
        for (const auto& entry : distinct)
        {
            if (static_cast<int64_t>(entry.second.size()) < expect)
            {
                return false;
            }
        }
        done = true;
        return true;
    };

    Participant participant;
    for (size_t i = 0; i < topics.size(); ++i)
    {
        participant.create_reader(topics[i], Profile::SustainML, listeners[i].get());
    }
    Output::instance().ready();

    if (notifier.wait_until(deadline_after(timeout), complete))
    {
        return EXIT_OK;
    }
    std::lock_guard<std::mutex> lock(state_mutex);
    done = true;
    diag("sub: timeout after " + seconds_text(timeout) + " s; distinct samples per topic (expected " +
            std::to_string(expect) + "):");
    for (const auto& entry : distinct)
    {
        diag("  " + entry.first + ": " + std::to_string(entry.second.size()) +
                (static_cast<int64_t>(entry.second.size()) < expect ? "  <- missing" : ""));
    }
    return EXIT_FAILED;
}

int run_reply(const Options& options)
{
    const int32_t node_id = static_cast<int32_t>(options.get_int("node-id", INT32_MIN, INT32_MAX));
    const int64_t count = options.get_int("count", 1, 1000000, 1);
    const double timeout = options.get_seconds("timeout", 30);

    Notifier notifier;
    WriterMatchListener match_listener(notifier);
    std::mutex state_mutex;
    int64_t answered = 0;
    dds::DataWriter* response_writer = nullptr;
    TakeAllListener request_listener(REQUEST_TOPIC, notifier,
            [&](void* data, dds::TopicDataType& type) {
                const auto& request = *static_cast<RequestTypeImpl*>(data);
                if (request.node_id() != node_id)
                {
                    return;
                }
                std::lock_guard<std::mutex> lock(state_mutex);
                if (answered >= count)
                {
                    return;
                }
                ResponseTypeImpl response;
                response.node_id(request.node_id());
                response.transaction_id(request.transaction_id());
                response.success(true);
                response.err_code(NO_ERROR);
                response.configuration("fastdds-echo: " + request.configuration());
                if (!response_writer->write(&response))
                {
                    diag("reply: write of the response failed");
                    return;
                }
                Output::instance().line(std::string(REQUEST_TOPIC) + " " +
                        to_hex(serialize_payload(type, data)));
                ++answered;
            });

    Participant participant;
    response_writer = participant.create_writer(RESPONSE_TOPIC, Profile::SustainML, &match_listener);
    participant.create_reader(REQUEST_TOPIC, Profile::SustainML, &request_listener);
    Output::instance().ready();

    auto deadline = deadline_after(timeout);
    bool ok = notifier.wait_until(deadline, [&] {
        std::lock_guard<std::mutex> lock(state_mutex);
        return answered >= count;
    });
    if (!ok)
    {
        std::lock_guard<std::mutex> lock(state_mutex);
        diag("reply: timeout after " + seconds_text(timeout) + " s: answered " + std::to_string(answered) +
                " of " + std::to_string(count) + " requests for node " + std::to_string(node_id));
        return EXIT_FAILED;
    }
    // Make sure the responses reach the requester before the writer goes away:
    // its reader may match our writer slightly after its writer matched our reader.
    notifier.wait_until(Clock::now() + std::chrono::seconds(5),
            [&] { return matched_readers(response_writer) > 0; });
    if (response_writer->wait_for_acknowledgments(duration_of(5)) != ReturnCode_t::RETCODE_OK)
    {
        diag("reply: warning: the response was not acknowledged within 5 s");
    }
    sleep_seconds(0.2);
    return EXIT_OK;
}

int run_request(const Options& options)
{
    const int32_t node_id = static_cast<int32_t>(options.get_int("node-id", INT32_MIN, INT32_MAX));
    const int32_t transaction_id =
            static_cast<int32_t>(options.get_int("transaction-id", INT32_MIN, INT32_MAX));
    const std::string configuration = options.get_string("configuration");
    const double timeout = options.get_seconds("timeout", 30);
    Output::instance().direct();

    Notifier notifier;
    WriterMatchListener match_listener(notifier);
    std::mutex state_mutex;
    std::string response_hex;
    TakeAllListener response_listener(RESPONSE_TOPIC, notifier,
            [&](void* data, dds::TopicDataType& type) {
                const auto& response = *static_cast<ResponseTypeImpl*>(data);
                if (response.node_id() != node_id || response.transaction_id() != transaction_id)
                {
                    return;
                }
                std::lock_guard<std::mutex> lock(state_mutex);
                if (response_hex.empty())
                {
                    response_hex = to_hex(serialize_payload(type, data));
                }
            });

    Participant participant;
    dds::DataReader* reader = participant.create_reader(RESPONSE_TOPIC, Profile::SustainML, &response_listener);
    dds::DataWriter* writer = participant.create_writer(REQUEST_TOPIC, Profile::SustainML, &match_listener);

    auto deadline = deadline_after(timeout);
    bool matched = notifier.wait_until(deadline, [&] {
        return matched_readers(writer) > 0 && matched_writers(reader) > 0;
    });
    if (!matched)
    {
        diag(std::string("request: timeout after ") + seconds_text(timeout) + " s waiting for a " +
                (matched_readers(writer) == 0 ? "reader of sustainml/request" : "writer of sustainml/response"));
        return EXIT_FAILED;
    }

    RequestTypeImpl request;
    request.node_id(node_id);
    request.transaction_id(transaction_id);
    request.configuration(configuration);
    if (!writer->write(&request))
    {
        throw Fatal(EXIT_FAILED, "request: write failed");
    }

    bool answered = notifier.wait_until(deadline, [&] {
        std::lock_guard<std::mutex> lock(state_mutex);
        return !response_hex.empty();
    });
    if (!answered)
    {
        diag("request: no response for node " + std::to_string(node_id) + " transaction " +
                std::to_string(transaction_id) + " within " + seconds_text(timeout) + " s");
        return EXIT_FAILED;
    }
    std::lock_guard<std::mutex> lock(state_mutex);
    Output::instance().line(std::string(RESPONSE_TOPIC) + " " + response_hex);
    return EXIT_OK;
}

} // namespace peer
