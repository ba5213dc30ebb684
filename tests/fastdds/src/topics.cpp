#include "topics.hpp"

#include <cstdlib>
#include <cstring>
#include <ifaddrs.h>
#include <net/if.h>
#include <set>
#include <sys/statvfs.h>

#include <fastcdr/exceptions/Exception.h>
#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/domain/DomainParticipantListener.hpp>
#include <iostream>
#include <fastdds/dds/domain/qos/DomainParticipantQos.hpp>
#include <fastdds/dds/publisher/qos/DataWriterQos.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/subscriber/qos/DataReaderQos.hpp>
#include <fastdds/dds/topic/Topic.hpp>
#include <fastdds/rtps/transport/UDPv4TransportDescriptor.h>
#include <fastdds/rtps/transport/shared_mem/SharedMemTransportDescriptor.h>

#include "sustainmlPubSubTypes.h"

namespace peer {

using eprosima::fastrtps::rtps::SerializedPayload_t;

const char* const REQUEST_TOPIC = "sustainml/request";
const char* const RESPONSE_TOPIC = "sustainml/response";
const char* const PING_TOPIC = "bench/ping";
const char* const PONG_TOPIC = "bench/pong";

namespace {

struct TopicEntry
{
    const char* name;
    const char* type_name;
};

// Every topic the peer knows, with the IDL struct it carries.
const TopicEntry TOPIC_TABLE[] = {
    {"/sustainml/user_input", "UserInputImpl"},
    {"/sustainml/app_requirements/output", "AppRequirementsImpl"},
    {"/sustainml/hw_constraints/output", "HWConstraintsImpl"},
    {"/sustainml/ml_model_metadata/output", "MLModelMetadataImpl"},
    {"/sustainml/ml_model_provider/output", "MLModelImpl"},
    {"/sustainml/hw_resources/output", "HWResourceImpl"},
    {"/sustainml/carbon_tracker/output", "CO2FootprintImpl"},
    {"/sustainml/ml_model_provider/baseline", "MLModelImpl"},
    {"/sustainml/hw_resources/baseline", "HWResourceImpl"},
    {"/sustainml/carbon_tracker/baseline", "CO2FootprintImpl"},
    {"/sustainml/status", "NodeStatusImpl"},
    {"/sustainml/control", "NodeControlImpl"},
    {REQUEST_TOPIC, "RequestTypeImpl"},
    {RESPONSE_TOPIC, "ResponseTypeImpl"},
    {PING_TOPIC, "MLModelImpl"},
    {PONG_TOPIC, "MLModelImpl"},
};
constexpr size_t SUSTAINML_TOPIC_COUNT = 12;

// Resource limits of the SustainML topics (Fast DDS defaults to 10 instances).
constexpr int32_t SUSTAINML_MAX_INSTANCES = 500;
constexpr int32_t SUSTAINML_MAX_SAMPLES = 500;

template<typename QoS>
void apply_profile(QoS& qos, Profile profile)
{
    qos.reliability().kind = dds::RELIABLE_RELIABILITY_QOS;
    qos.history().kind = dds::KEEP_LAST_HISTORY_QOS;
    qos.history().depth = 1;
    if (profile == Profile::SustainML)
    {
        qos.durability().kind = dds::TRANSIENT_LOCAL_DURABILITY_QOS;
        qos.resource_limits().max_instances = SUSTAINML_MAX_INSTANCES;
        qos.resource_limits().max_samples_per_instance = 1;
        qos.resource_limits().max_samples = SUSTAINML_MAX_SAMPLES;
    }
    else
    {
        // Every ping round uses a new key (task_id {k,1}): the number of instances
        // must not be bounded (0 = unlimited in Fast DDS 2.x).
        qos.durability().kind = dds::VOLATILE_DURABILITY_QOS;
        qos.resource_limits().max_instances = 0;
        qos.resource_limits().max_samples_per_instance = 1;
        qos.resource_limits().max_samples = 0;
    }
    // Unbounded types (strings, sequences): the history payloads must grow on
    // demand past the type's nominal maximum size (which fastddsgen computes with
    // 255-char strings and 100-element sequences), and data-sharing (which needs
    // bounded types) stays off.
    qos.endpoint().history_memory_policy = eprosima::fastrtps::rtps::PREALLOCATED_WITH_REALLOC_MEMORY_MODE;
    qos.data_sharing().off();
}

// With SUSTAINML_FASTDDS_TRACE=1 the peer reports on stderr every participant and
// endpoint that Fast DDS discovers, and every match of its readers and writers:
// the evidence needed to tell "never discovered" from "discovered, not matched".
bool discovery_trace_enabled()
{
    const char* value = std::getenv("SUSTAINML_FASTDDS_TRACE");
    return value != nullptr && std::strcmp(value, "1") == 0;
}

class DiscoveryTrace : public dds::DomainParticipantListener
{
public:
    void on_participant_discovery(dds::DomainParticipant*,
            eprosima::fastrtps::rtps::ParticipantDiscoveryInfo&& info) override
    {
        std::cerr << "trace participant " << static_cast<int>(info.status) << " " << info.info.m_guid << " "
                  << info.info.m_participantName << std::endl;
    }

    void on_publisher_discovery(dds::DomainParticipant*,
            eprosima::fastrtps::rtps::WriterDiscoveryInfo&& info) override
    {
        std::cerr << "trace writer " << static_cast<int>(info.status) << " " << info.info.guid() << " "
                  << info.info.topicName() << std::endl;
    }

    void on_subscriber_discovery(dds::DomainParticipant*,
            eprosima::fastrtps::rtps::ReaderDiscoveryInfo&& info) override
    {
        std::cerr << "trace reader " << static_cast<int>(info.status) << " " << info.info.guid() << " "
                  << info.info.topicName() << std::endl;
    }
};

} // namespace

const std::vector<std::string>& sustainml_topics()
{
    static const std::vector<std::string> topics = [] {
        std::vector<std::string> out;
        for (size_t i = 0; i < SUSTAINML_TOPIC_COUNT; ++i)
        {
            out.emplace_back(TOPIC_TABLE[i].name);
        }
        return out;
    }();
    return topics;
}

std::string type_of_topic(const std::string& topic)
{
    for (const auto& entry : TOPIC_TABLE)
    {
        if (topic == entry.name)
        {
            return entry.type_name;
        }
    }
    return "";
}

const std::vector<std::string>& all_type_names()
{
    static const std::vector<std::string> names = {
        "TaskIdImpl", "NodeStatusImpl", "NodeControlImpl", "UserInputImpl", "MLModelMetadataImpl",
        "AppRequirementsImpl", "HWConstraintsImpl", "MLModelImpl", "HWResourceImpl", "CO2FootprintImpl",
        "RequestTypeImpl", "ResponseTypeImpl",
    };
    return names;
}

dds::TopicDataType* make_pubsub_type(const std::string& type_name)
{
    if (type_name == "TaskIdImpl")
    {
        return new TaskIdImplPubSubType();
    }
    if (type_name == "NodeStatusImpl")
    {
        return new NodeStatusImplPubSubType();
    }
    if (type_name == "NodeControlImpl")
    {
        return new NodeControlImplPubSubType();
    }
    if (type_name == "UserInputImpl")
    {
        return new UserInputImplPubSubType();
    }
    if (type_name == "MLModelMetadataImpl")
    {
        return new MLModelMetadataImplPubSubType();
    }
    if (type_name == "AppRequirementsImpl")
    {
        return new AppRequirementsImplPubSubType();
    }
    if (type_name == "HWConstraintsImpl")
    {
        return new HWConstraintsImplPubSubType();
    }
    if (type_name == "MLModelImpl")
    {
        return new MLModelImplPubSubType();
    }
    if (type_name == "HWResourceImpl")
    {
        return new HWResourceImplPubSubType();
    }
    if (type_name == "CO2FootprintImpl")
    {
        return new CO2FootprintImplPubSubType();
    }
    if (type_name == "RequestTypeImpl")
    {
        return new RequestTypeImplPubSubType();
    }
    if (type_name == "ResponseTypeImpl")
    {
        return new ResponseTypeImplPubSubType();
    }
    return nullptr;
}

std::vector<uint8_t> serialize_payload(dds::TopicDataType& type, void* data)
{
    uint32_t size = type.getSerializedSizeProvider(data)();
    SerializedPayload_t payload(size);
    if (!type.serialize(data, &payload))
    {
        throw Fatal(EXIT_FAILED, std::string("cannot serialize a ") + type.getName() + " sample");
    }
    return std::vector<uint8_t>(payload.data, payload.data + payload.length);
}

bool deserialize_payload(dds::TopicDataType& type, const std::vector<uint8_t>& bytes, void* data,
        std::string& error)
{
    if (bytes.size() < 4)
    {
        error = "payload shorter than the 4-byte encapsulation header";
        return false;
    }
    if (bytes[0] != 0x00 || (bytes[1] != 0x00 && bytes[1] != 0x01))
    {
        error = "encapsulation " + to_hex(bytes.data(), 2) + " is not plain CDR (0000 or 0001)";
        return false;
    }
    SerializedPayload_t payload(static_cast<uint32_t>(bytes.size()));
    std::memcpy(payload.data, bytes.data(), bytes.size());
    payload.length = static_cast<uint32_t>(bytes.size());
    try
    {
        if (!type.deserialize(&payload, data))
        {
            error = std::string("the payload is truncated for a ") + type.getName();
            return false;
        }
    }
    catch (const eprosima::fastcdr::exception::Exception& e)
    {
        error = std::string("invalid ") + type.getName() + " payload: " + e.what();
        return false;
    }
    catch (const std::exception& e)
    {
        error = std::string("invalid ") + type.getName() + " payload: " + e.what();
        return false;
    }
    return true;
}

static dds::TopicDataType* pubsub_type_of_topic(const std::string& topic)
{
    dds::TopicDataType* type = make_pubsub_type(type_of_topic(topic));
    if (type == nullptr)
    {
        throw usage_error("unknown topic '" + topic + "'");
    }
    return type;
}

void report_take_error(dds::DataReader* reader, const std::exception& e)
{
    diag("error: cannot take a sample on " + reader->get_topicdescription()->get_name() + ": " + e.what());
}

TakeAllListener::TakeAllListener(const std::string& topic, Notifier& notifier, Callback callback)
    : type_(pubsub_type_of_topic(topic))
    , sample_(*type_)
    , notifier_(notifier)
    , callback_(std::move(callback))
{
}

void TakeAllListener::on_data_available(dds::DataReader* reader)
{
    std::lock_guard<std::mutex> lock(take_mutex_);
    dds::SampleInfo info;
    try
    {
        while (reader->take_next_sample(sample_.get(), &info) == ReturnCode_t::RETCODE_OK)
        {
            if (info.valid_data)
            {
                callback_(sample_.get(), *type_);
            }
        }
    }
    catch (const std::exception& e)
    {
        // The generated deserializer throws on some malformed payloads (e.g. a
        // boolean that is neither 0 nor 1); never let that escape into Fast DDS.
        report_take_error(reader, e);
    }
    notifier_.notify();
}

uint32_t domain_id_from_env()
{
    const char* text = std::getenv("SUSTAINML_DOMAIN_ID");
    if (text == nullptr)
    {
        return 0;
    }
    auto value = parse_int(text, 0, 232);
    if (!value || text[0] == '+' || text[0] == '-')
    {
        throw usage_error(std::string("SUSTAINML_DOMAIN_ID='") + text + "' is not an integer in 0..232");
    }
    return static_cast<uint32_t>(*value);
}

// Transports: Fast DDS's usual pair, UDPv4 + shared memory, declared explicitly so
// that large samples (1 MB benchmark samples, 16 MB models) flow without losses:
// - UDP socket buffers of 4 MiB (the kernel caps them at net.core.{r,w}mem_max),
//   so that the burst of 64 KB fragments of a large sample is not dropped by the
//   receiving socket (which costs a NACK round trip of repair);
// - a 32 MiB shared-memory segment instead of 512 KiB, so that the fragments of a
//   large sample do not overwrite each other in the writer's segment. The bigger
//   segment is used only when /dev/shm has ample room (it is a sparse file, but a
//   full tmpfs would make the middleware crash on first touch of a page).
// SUSTAINML_FASTDDS_TRANSPORT=udp keeps only UDPv4, which is what a peer of another
// vendor sees; any other value than 'default' or 'udp' is refused.
static void configure_transports(dds::DomainParticipantQos& qos)
{
    constexpr uint32_t SOCKET_BUFFER = 4u << 20;
    constexpr uint32_t SHM_SEGMENT = 32u << 20;
    constexpr unsigned long long SHM_MIN_FREE = 8ull * SHM_SEGMENT;

    const char* env = std::getenv("SUSTAINML_FASTDDS_TRANSPORT");
    std::string kind = env ? env : "default";
    if (kind != "default" && kind != "udp" && !kind.empty())
    {
        throw usage_error("SUSTAINML_FASTDDS_TRANSPORT='" + kind + "' is not 'default' or 'udp'");
    }

    qos.transport().use_builtin_transports = false;
    if (kind != "udp")
    {
        auto shm = std::make_shared<eprosima::fastdds::rtps::SharedMemTransportDescriptor>();
        struct statvfs fs;
        if (statvfs("/dev/shm", &fs) == 0 &&
                static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize >= SHM_MIN_FREE)
        {
            shm->segment_size(SHM_SEGMENT);
        }
        qos.transport().user_transports.push_back(shm);
    }
    auto udp = std::make_shared<eprosima::fastdds::rtps::UDPv4TransportDescriptor>();
    udp->sendBufferSize = SOCKET_BUFFER;
    udp->receiveBufferSize = SOCKET_BUFFER;
    qos.transport().user_transports.push_back(udp);
}

// No DDS packet may leave the machine: the peer opens a participant only when every
// network interface it can see is a loopback one, i.e. inside a loopback-only
// network namespace such as the one /work/shared/bin/isolated creates.
static void require_loopback_only_network()
{
    struct ifaddrs* interfaces = nullptr;
    if (getifaddrs(&interfaces) != 0)
    {
        throw usage_error("cannot list the network interfaces");
    }
    std::set<std::string> exposed;
    for (struct ifaddrs* it = interfaces; it != nullptr; it = it->ifa_next)
    {
        if ((it->ifa_flags & IFF_UP) != 0 && (it->ifa_flags & IFF_LOOPBACK) == 0)
        {
            exposed.insert(it->ifa_name);
        }
    }
    freeifaddrs(interfaces);
    if (!exposed.empty())
    {
        std::string names;
        for (const auto& name : exposed)
        {
            names += (names.empty() ? "" : ", ") + name;
        }
        throw usage_error("refusing to open a DDS participant while non-loopback network interfaces are up (" +
                      names + "): run the peer in a loopback-only network namespace, "
                      "e.g. /work/shared/bin/isolated sustainml-fastdds-peer ...");
    }
}

Participant::Participant()
{
    uint32_t domain = domain_id_from_env();
    require_loopback_only_network();

    dds::DomainParticipantQos qos = dds::PARTICIPANT_QOS_DEFAULT;
    qos.name("FASTDDS_PEER");

    configure_transports(qos);

    if (discovery_trace_enabled())
    {
        static DiscoveryTrace trace;
        participant_ = dds::DomainParticipantFactory::get_instance()->create_participant(domain, qos, &trace, dds::StatusMask::none());
    }
    else
    {
        participant_ = dds::DomainParticipantFactory::get_instance()->create_participant(domain, qos);
    }
    if (participant_ == nullptr)
    {
        throw Fatal(EXIT_FAILED, "cannot create the DomainParticipant on domain " + std::to_string(domain));
    }
    publisher_ = participant_->create_publisher(dds::PUBLISHER_QOS_DEFAULT);
    subscriber_ = participant_->create_subscriber(dds::SUBSCRIBER_QOS_DEFAULT);
    if (publisher_ == nullptr || subscriber_ == nullptr)
    {
        throw Fatal(EXIT_FAILED, "cannot create the publisher / subscriber");
    }
}

Participant::~Participant()
{
    if (participant_ != nullptr)
    {
        participant_->delete_contained_entities();
        dds::DomainParticipantFactory::get_instance()->delete_participant(participant_);
    }
}

void trace_match(dds::DataReader* reader, const dds::SubscriptionMatchedStatus& status)
{
    if (discovery_trace_enabled())
    {
        std::cerr << "trace matched-writer " << status.current_count_change << " "
                  << eprosima::fastrtps::rtps::iHandle2GUID(status.last_publication_handle) << " "
                  << reader->get_topicdescription()->get_name() << std::endl;
    }
}

dds::Topic* Participant::topic(const std::string& name)
{
    auto it = topics_.find(name);
    if (it != topics_.end())
    {
        return it->second;
    }
    std::string type_name = type_of_topic(name);
    if (type_name.empty())
    {
        throw usage_error("unknown topic '" + name + "'");
    }
    if (types_.count(type_name) == 0)
    {
        dds::TypeSupport type(make_pubsub_type(type_name));
        if (type.register_type(participant_) != ReturnCode_t::RETCODE_OK)
        {
            throw Fatal(EXIT_FAILED, "cannot register type " + type_name);
        }
        types_.emplace(type_name, type);
    }
    dds::Topic* topic = participant_->create_topic(name, type_name, dds::TOPIC_QOS_DEFAULT);
    if (topic == nullptr)
    {
        throw Fatal(EXIT_FAILED, "cannot create topic " + name);
    }
    topics_.emplace(name, topic);
    return topic;
}

dds::TopicDataType& Participant::type_for(const std::string& name)
{
    topic(name);
    return *types_.at(type_of_topic(name)).get();
}

dds::DataWriter* Participant::create_writer(const std::string& name, Profile profile,
        dds::DataWriterListener* listener)
{
    dds::DataWriterQos qos = publisher_->get_default_datawriter_qos();
    apply_profile(qos, profile);
    // Heartbeat often, so that acknowledgments (wait_for_acknowledgments, the
    // removal of acknowledged samples in VOLATILE writers) and repairs come quickly.
    qos.reliable_writer_qos().times.heartbeatPeriod = eprosima::fastrtps::Duration_t(0, 100000000);
    dds::DataWriter* writer = publisher_->create_datawriter(topic(name), qos, listener);
    if (writer == nullptr)
    {
        throw Fatal(EXIT_FAILED, "cannot create a writer on " + name);
    }
    return writer;
}

dds::DataReader* Participant::create_reader(const std::string& name, Profile profile,
        dds::DataReaderListener* listener)
{
    dds::DataReaderQos qos = subscriber_->get_default_datareader_qos();
    apply_profile(qos, profile);
    dds::DataReader* reader = subscriber_->create_datareader(topic(name), qos, listener);
    if (reader == nullptr)
    {
        throw Fatal(EXIT_FAILED, "cannot create a reader on " + name);
    }
    return reader;
}

int32_t matched_readers(dds::DataWriter* writer)
{
    dds::PublicationMatchedStatus status;
    writer->get_publication_matched_status(status);
    return status.current_count;
}

int32_t matched_writers(dds::DataReader* reader)
{
    dds::SubscriptionMatchedStatus status;
    reader->get_subscription_matched_status(status);
    return status.current_count;
}

} // namespace peer
