// Topics, types and QoS of the SustainML wire contract, and a DomainParticipant
// wrapper that creates readers and writers with that QoS.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/DataWriterListener.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/DataReaderListener.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/topic/TopicDataType.hpp>
#include <fastdds/dds/topic/TypeSupport.hpp>

#include "util.hpp"

namespace peer {

namespace dds = eprosima::fastdds::dds;

// The 12 SustainML data topics, in the order of the contract.
const std::vector<std::string>& sustainml_topics();

// Configuration service topics (no leading slash) and benchmark topics.
extern const char* const REQUEST_TOPIC;
extern const char* const RESPONSE_TOPIC;
extern const char* const PING_TOPIC;
extern const char* const PONG_TOPIC;

// Type name (IDL struct name) carried by a known topic, or "" if the topic is unknown.
std::string type_of_topic(const std::string& topic);

// A new instance of the generated PubSubType for an IDL struct name (nullptr if unknown).
dds::TopicDataType* make_pubsub_type(const std::string& type_name);

// Names of all IDL structs, in the order of the IDL file.
const std::vector<std::string>& all_type_names();

// Serializes a sample with its PubSubType: the full payload, encapsulation included.
std::vector<uint8_t> serialize_payload(dds::TopicDataType& type, void* data);

// Deserializes a full payload (encapsulation included) into `data`. On failure returns
// false and describes the problem in `error`.
bool deserialize_payload(dds::TopicDataType& type, const std::vector<uint8_t>& bytes, void* data,
        std::string& error);

// A sample of some generated type, owned through its PubSubType.
class Sample
{
public:
    explicit Sample(dds::TopicDataType& type)
        : type_(&type)
        , data_(type.createData())
    {
    }

    ~Sample()
    {
        type_->deleteData(data_);
    }

    Sample(const Sample&) = delete;
    Sample& operator =(const Sample&) = delete;

    void* get() const
    {
        return data_;
    }

    template<typename T>
    T& as() const
    {
        return *static_cast<T*>(data_);
    }

    std::vector<uint8_t> serialize() const
    {
        return serialize_payload(*type_, data_);
    }

private:
    dds::TopicDataType* type_;
    void* data_;
};

// QoS families of the contract.
enum class Profile
{
    SustainML, // RELIABLE, TRANSIENT_LOCAL, KEEP_LAST 1, 500 instances
    Bench,     // RELIABLE, VOLATILE, KEEP_LAST 1, unlimited instances
};

// Wakes threads waiting for a state change made by listener callbacks
// (a match, a sample). Waiters re-check their predicate after each wake-up.
class Notifier
{
public:
    void notify()
    {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++generation_;
        }
        cv_.notify_all();
    }

    // Waits until pred() is true (checked under no lock) or the deadline passes.
    // Returns pred()'s final value.
    bool wait_until(Clock::time_point deadline, const std::function<bool()>& pred)
    {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;)
        {
            uint64_t seen = generation_;
            lock.unlock();
            if (pred())
            {
                return true;
            }
            lock.lock();
            if (!cv_.wait_until(lock, deadline, [&] { return generation_ != seen; }))
            {
                lock.unlock();
                return pred();
            }
        }
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    uint64_t generation_ = 0;
};

// Forwards every match event of a writer to a Notifier.
class WriterMatchListener : public dds::DataWriterListener
{
public:
    explicit WriterMatchListener(Notifier& notifier)
        : notifier_(notifier)
    {
    }

    void on_publication_matched(dds::DataWriter*, const dds::PublicationMatchedStatus&) override
    {
        notifier_.notify();
    }

private:
    Notifier& notifier_;
};

// Takes every available sample of a reader and passes the valid ones to a callback
// (on the middleware's thread); also forwards match events to a Notifier. It owns its
// own instance of the PubSubType, so it does not depend on the participant's.
// With SUSTAINML_FASTDDS_TRACE=1, reports a reader's match or unmatch on stderr.
void trace_match(dds::DataReader* reader, const dds::SubscriptionMatchedStatus& status);

class TakeAllListener : public dds::DataReaderListener
{
public:
    using Callback = std::function<void(void* data, dds::TopicDataType& type)>;

    TakeAllListener(const std::string& topic, Notifier& notifier, Callback callback);

    void on_data_available(dds::DataReader* reader) override;

    void on_subscription_matched(dds::DataReader* reader, const dds::SubscriptionMatchedStatus& status) override
    {
        trace_match(reader, status);
        notifier_.notify();
    }

private:
    std::mutex take_mutex_;
    std::unique_ptr<dds::TopicDataType> type_;
    Sample sample_;
    Notifier& notifier_;
    Callback callback_;
};

// Reports on stderr an exception thrown while taking a sample (malformed payload).
void report_take_error(dds::DataReader* reader, const std::exception& e);

// Domain id from SUSTAINML_DOMAIN_ID (default 0); throws a usage error if invalid.
uint32_t domain_id_from_env();

// One DomainParticipant ("FASTDDS_PEER") with a publisher and a subscriber.
// Readers and writers are deleted with it, so listeners must outlive it.
class Participant
{
public:
    Participant();
    ~Participant();

    Participant(const Participant&) = delete;
    Participant& operator =(const Participant&) = delete;

    dds::DataWriter* create_writer(const std::string& topic, Profile profile,
            dds::DataWriterListener* listener);
    dds::DataReader* create_reader(const std::string& topic, Profile profile,
            dds::DataReaderListener* listener);

    // The registered PubSubType of a topic's type (creates the topic if needed).
    dds::TopicDataType& type_for(const std::string& topic);

private:
    dds::Topic* topic(const std::string& name);

    dds::DomainParticipant* participant_ = nullptr;
    dds::Publisher* publisher_ = nullptr;
    dds::Subscriber* subscriber_ = nullptr;
    std::map<std::string, dds::Topic*> topics_;
    std::map<std::string, dds::TypeSupport> types_;
};

// Number of readers matched by a writer / writers matched by a reader.
int32_t matched_readers(dds::DataWriter* writer);
int32_t matched_writers(dds::DataReader* reader);

} // namespace peer
