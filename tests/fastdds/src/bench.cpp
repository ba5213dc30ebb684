// ping / pong: the round-trip benchmark on bench/ping and bench/pong (MLModelImpl).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "sustainml.h"
#include "topics.hpp"

namespace peer {

namespace {

// Writer listener that keeps the current number of matched readers.
class MatchCounter : public dds::DataWriterListener
{
public:
    explicit MatchCounter(Notifier& notifier)
        : notifier_(notifier)
    {
    }

    void on_publication_matched(dds::DataWriter*, const dds::PublicationMatchedStatus& status) override
    {
        count_ = status.current_count;
        notifier_.notify();
    }

    int32_t count() const
    {
        return count_;
    }

private:
    Notifier& notifier_;
    std::atomic<int32_t> count_{0};
};

// pong's reader: echoes every sample from the middleware's thread, without a hop
// to another thread.
class EchoListener : public dds::DataReaderListener
{
public:
    EchoListener(Notifier& notifier, MatchCounter& pong_matches)
        : notifier_(notifier)
        , pong_matches_(pong_matches)
    {
    }

    void set_writer(dds::DataWriter* writer)
    {
        writer_ = writer;
    }

    void on_data_available(dds::DataReader* reader) override
    {
        std::lock_guard<std::mutex> lock(mutex_);
        try
        {
            echo_all(reader);
        }
        catch (const std::exception& e)
        {
            report_take_error(reader, e);
        }
        notifier_.notify();
    }

    void on_subscription_matched(dds::DataReader*, const dds::SubscriptionMatchedStatus&) override
    {
        notifier_.notify();
    }

    bool stopped() const
    {
        return stopped_;
    }

    uint64_t echoed() const
    {
        return echoed_;
    }

private:
    void echo_all(dds::DataReader* reader)
    {
        dds::SampleInfo info;
        while (reader->take_next_sample(&sample_, &info) == ReturnCode_t::RETCODE_OK)
        {
            if (!info.valid_data)
            {
                continue;
            }
            // Our writer may discover the ping's reader a moment after the ping saw
            // both matches: wait for it rather than echo to nobody.
            if (pong_matches_.count() == 0)
            {
                notifier_.wait_until(deadline_after(10), [&] { return pong_matches_.count() > 0; });
            }
            // Fast DDS keeps a copy of the first sample written for a key as the
            // instance's key payload; registering a key-only sample first keeps that
            // copy small (every round is a new key).
            key_only_.task_id(sample_.task_id());
            writer_->register_instance(&key_only_);
            if (!writer_->write(&sample_))
            {
                diag("pong: echo write failed");
            }
            ++echoed_;
            if (sample_.task_id().problem_id() == 0)
            {
                stopped_ = true;
            }
        }
    }

    std::mutex mutex_;
    MLModelImpl sample_;
    MLModelImpl key_only_;
    Notifier& notifier_;
    MatchCounter& pong_matches_;
    dds::DataWriter* writer_ = nullptr;
    std::atomic<bool> stopped_{false};
    std::atomic<uint64_t> echoed_{0};
};

// ping's reader: records the arrival time of the echo the ping is waiting for.
class EchoWaiter : public dds::DataReaderListener
{
public:
    explicit EchoWaiter(Notifier& notifier)
        : notifier_(notifier)
    {
    }

    // Starts waiting for the echo of `problem_id`.
    void expect(uint32_t problem_id)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        expected_ = problem_id;
        received_ = false;
    }

    bool received() const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return received_;
    }

    Clock::time_point received_at() const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return received_at_;
    }

    void on_data_available(dds::DataReader* reader) override
    {
        bool got = false;
        {
            std::lock_guard<std::mutex> take_lock(take_mutex_);
            dds::SampleInfo info;
            try
            {
                while (reader->take_next_sample(&sample_, &info) == ReturnCode_t::RETCODE_OK)
                {
                    if (!info.valid_data)
                    {
                        continue;
                    }
                    auto now = Clock::now();
                    std::lock_guard<std::mutex> lock(mutex_);
                    if (!received_ && sample_.task_id().problem_id() == expected_)
                    {
                        received_ = true;
                        received_at_ = now;
                        got = true;
                    }
                }
            }
            catch (const std::exception& e)
            {
                report_take_error(reader, e);
            }
        }
        if (got)
        {
            notifier_.notify();
        }
    }

    void on_subscription_matched(dds::DataReader*, const dds::SubscriptionMatchedStatus&) override
    {
        notifier_.notify();
    }

private:
    std::mutex take_mutex_;
    MLModelImpl sample_;
    Notifier& notifier_;
    mutable std::mutex mutex_;
    uint32_t expected_ = 0;
    bool received_ = false;
    Clock::time_point received_at_;
};

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p)
{
    size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    rank = std::max<size_t>(rank, 1);
    return sorted[std::min(rank, sorted.size()) - 1];
}

} // namespace

int run_pong(const Options& options)
{
    const double timeout = options.get_seconds("timeout", 60);

    Notifier notifier;
    MatchCounter pong_matches(notifier);
    EchoListener echo(notifier, pong_matches);
    Participant participant;
    dds::DataWriter* writer = participant.create_writer(PONG_TOPIC, Profile::Bench, &pong_matches);
    echo.set_writer(writer);
    participant.create_reader(PING_TOPIC, Profile::Bench, &echo);
    Output::instance().ready();

    if (!notifier.wait_until(deadline_after(timeout), [&] { return echo.stopped(); }))
    {
        diag("pong: timeout after " + seconds_text(timeout) + " s (" + std::to_string(echo.echoed()) +
                " samples echoed, no stop signal)");
        return EXIT_FAILED;
    }
    // Let the echo of the stop signal reach the ping.
    writer->wait_for_acknowledgments(eprosima::fastrtps::Duration_t(2, 0));
    diag("pong: stop signal received after " + std::to_string(echo.echoed()) + " echoes");
    return EXIT_OK;
}

int run_ping(const Options& options)
{
    const int64_t size = options.get_int("size", 0, 512LL * 1024 * 1024);
    const int64_t count = options.get_int("count", 1, 100000000);
    const int64_t warmup = options.get_int("warmup", 0, 100000000, 50);
    const double match_timeout = options.get_seconds("match-timeout", 30);
    const auto round_timeout = std::chrono::seconds(10);
    if (count + warmup > UINT32_MAX)
    {
        throw usage_error("ping: --count + --warmup is too large");
    }
    Output::instance().direct();

    Notifier notifier;
    MatchCounter ping_matches(notifier);
    EchoWaiter waiter(notifier);
    Participant participant;
    dds::DataReader* reader = participant.create_reader(PONG_TOPIC, Profile::Bench, &waiter);
    dds::DataWriter* writer = participant.create_writer(PING_TOPIC, Profile::Bench, &ping_matches);

    if (!notifier.wait_until(deadline_after(match_timeout),
            [&] { return ping_matches.count() > 0 && matched_writers(reader) > 0; }))
    {
        diag(std::string("ping: no pong matched within ") + seconds_text(match_timeout) + " s (" +
                (ping_matches.count() == 0 ? "no reader of bench/ping" : "no writer of bench/pong") + ")");
        return EXIT_FAILED;
    }

    MLModelImpl sample;
    std::vector<uint8_t> raw(static_cast<size_t>(size));
    for (size_t i = 0; i < raw.size(); ++i)
    {
        raw[i] = static_cast<uint8_t>(i * 31 + 7);
    }
    sample.raw_model(std::move(raw));
    // See EchoListener: register each key with a small sample so that the instance's
    // key payload kept by Fast DDS is not a copy of the large one.
    MLModelImpl key_only;

    std::vector<double> rtts_us;
    rtts_us.reserve(static_cast<size_t>(count));
    const uint32_t rounds = static_cast<uint32_t>(warmup + count);
    for (uint32_t k = 1; k <= rounds; ++k)
    {
        sample.task_id().problem_id(k);
        sample.task_id().iteration_id(1);
        key_only.task_id(sample.task_id());
        writer->register_instance(&key_only);
        waiter.expect(k);
        auto sent_at = Clock::now();
        if (!writer->write(&sample))
        {
            throw Fatal(EXIT_FAILED, "ping: write failed in round " + std::to_string(k));
        }
        if (!notifier.wait_until(sent_at + round_timeout, [&] { return waiter.received(); }))
        {
            diag("ping: no echo for round " + std::to_string(k) + " within 10 s");
            return EXIT_FAILED;
        }
        if (k > warmup)
        {
            rtts_us.push_back(std::chrono::duration<double, std::micro>(waiter.received_at() - sent_at).count());
        }
    }

    // Stop the pong: problem_id 0, no model bytes; wait (briefly) for its echo.
    MLModelImpl stop;
    stop.task_id().problem_id(0);
    stop.task_id().iteration_id(1);
    waiter.expect(0);
    writer->write(&stop);
    if (!notifier.wait_until(deadline_after(5), [&] { return waiter.received(); }))
    {
        diag("ping: warning: the pong did not echo the stop signal within 5 s");
    }

    std::sort(rtts_us.begin(), rtts_us.end());
    double sum = 0;
    for (double v : rtts_us)
    {
        sum += v;
    }
    double p50 = percentile(rtts_us, 0.50);
    double p99 = percentile(rtts_us, 0.99);
    double mean = sum / static_cast<double>(rtts_us.size());
    char line[256];
    std::snprintf(line, sizeof(line),
            "fastdds size=%lld count=%lld rtt_p50_us=%.1f rtt_p99_us=%.1f rtt_mean_us=%.1f oneway_p50_us=%.1f",
            static_cast<long long>(size), static_cast<long long>(count), p50, p99, mean, p50 / 2);
    Output::instance().line(line);
    return EXIT_OK;
}

} // namespace peer
