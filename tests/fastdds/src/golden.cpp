#include "golden.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sys/stat.h>

#include <fastdds/rtps/common/InstanceHandle.h>

#include "sustainml.h"
#include "topics.hpp"
#include "util.hpp"

namespace peer {

namespace {

std::vector<uint8_t> bytes_of(const std::string& text)
{
    return std::vector<uint8_t>(text.begin(), text.end());
}

TaskIdImpl task_id(uint32_t problem_id, uint32_t iteration_id)
{
    TaskIdImpl id;
    id.problem_id(problem_id);
    id.iteration_id(iteration_id);
    return id;
}

// Fills `data` (a default-constructed value of `type_name`) with the `full` variant.
void fill_full(const std::string& type_name, void* data)
{
    if (type_name == "TaskIdImpl")
    {
        *static_cast<TaskIdImpl*>(data) = task_id(7, 3);
    }
    else if (type_name == "NodeStatusImpl")
    {
        auto& v = *static_cast<NodeStatusImpl*>(data);
        v.node_status(NODE_RUNNING);
        v.task_status(TASK_ERROR);
        v.error_code(INTERNAL_ERROR);
        // UTF-8: u-umlaut (c3 bc), i-diaeresis (c3 af), check mark (e2 9c 93).
        v.error_description("model file is not ONNX: \xc3\xbc" "n" "\xc3\xaf" "code \xe2\x9c\x93");
        v.node_name("ML_MODEL_NODE");
        v.task_id(task_id(7, 3));
    }
    else if (type_name == "NodeControlImpl")
    {
        auto& v = *static_cast<NodeControlImpl*>(data);
        v.cmd_node(STOP_NODE);
        v.cmd_task(PREEMPT_TASK);
        v.target_node("HW_RESOURCES_NODE");
        v.source_node("ORCHESTRATOR_NODE");
        v.task_id(task_id(4294967295u, 1));
    }
    else if (type_name == "UserInputImpl")
    {
        auto& v = *static_cast<UserInputImpl*>(data);
        v.modality("images");
        v.problem_short_description("Classify bird species");
        v.problem_definition("Classify photos taken by a camera trap in a forest.");
        v.inputs({"image", "location"});
        v.outputs({"species"});
        v.minimum_samples(1000);
        v.maximum_samples(50000);
        v.optimize_carbon_footprint_manual(true);
        v.previous_iteration(-1);
        v.optimize_carbon_footprint_auto(false);
        v.desired_carbon_footprint(12.5);
        v.geo_location_continent("Europe");
        v.geo_location_region("France");
        v.extra_data(bytes_of(R"({"hardware_required":"PIM_AI_1chip","max_memory_footprint":100})"));
        v.task_id(task_id(1, 1));
    }
    else if (type_name == "MLModelMetadataImpl")
    {
        auto& v = *static_cast<MLModelMetadataImpl*>(data);
        v.keywords({"bird", "camera", "image"});
        v.ml_model_metadata({"image-classification"});
        v.extra_data(bytes_of(R"({"goal":"image-classification"})"));
        v.task_id(task_id(1, 1));
    }
    else if (type_name == "AppRequirementsImpl")
    {
        auto& v = *static_cast<AppRequirementsImpl*>(data);
        v.app_requirements({"latency <= 50 ms", "on-device"});
        v.extra_data({});
        v.task_id(task_id(2, 1));
    }
    else if (type_name == "HWConstraintsImpl")
    {
        auto& v = *static_cast<HWConstraintsImpl*>(data);
        v.max_memory_footprint(16);
        v.hardware_required({"PIM_AI_1chip", "CPU"});
        v.extra_data(bytes_of("{}"));
        v.task_id(task_id(3, 2));
    }
    else if (type_name == "MLModelImpl")
    {
        auto& v = *static_cast<MLModelImpl*>(data);
        v.model_path("models/mobilenet_v2.onnx");
        v.model("mobilenet_v2");
        std::vector<uint8_t> raw(255);
        for (size_t k = 0; k < raw.size(); ++k)
        {
            raw[k] = static_cast<uint8_t>(k);
        }
        v.raw_model(raw);
        v.model_properties_path("");
        v.model_properties(R"({"params":3500000})");
        v.input_batch({"1x3x224x224"});
        v.target_latency(0.05);
        v.extra_data(bytes_of(R"({"unsupported_models":[]})"));
        v.task_id(task_id(1, 2));
    }
    else if (type_name == "HWResourceImpl")
    {
        auto& v = *static_cast<HWResourceImpl*>(data);
        v.hw_description("CPU x86_64");
        v.power_consumption(15.5);
        v.latency(3.25);
        v.memory_footprint_of_ml_model(13.9);
        v.max_hw_memory_footprint(24576.0);
        v.extra_data(bytes_of(R"({"estimated":false})"));
        v.task_id(task_id(1, 2));
    }
    else if (type_name == "CO2FootprintImpl")
    {
        auto& v = *static_cast<CO2FootprintImpl*>(data);
        v.carbon_footprint(0.000123);
        v.energy_consumption(0.0021);
        v.carbon_intensity(56.0);
        v.extra_data(bytes_of(R"({"num_outputs":1})"));
        v.task_id(task_id(1, 2));
    }
    else if (type_name == "RequestTypeImpl")
    {
        auto& v = *static_cast<RequestTypeImpl*>(data);
        v.node_id(4);
        v.transaction_id(42);
        v.configuration("modality");
    }
    else if (type_name == "ResponseTypeImpl")
    {
        auto& v = *static_cast<ResponseTypeImpl*>(data);
        v.node_id(4);
        v.transaction_id(-42);
        v.success(true);
        v.err_code(INTERNAL_ERROR);
        v.configuration(R"({"modalities":"images, text"})");
    }
    else
    {
        throw Fatal(EXIT_FAILED, "no golden value for " + type_name);
    }
}

void write_file(const std::string& path, const void* data, size_t len)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(len));
    out.close();
    if (!out)
    {
        throw Fatal(EXIT_FAILED, "cannot write " + path);
    }
}

} // namespace

int run_golden(const std::string& dir)
{
    struct stat st;
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    {
        throw usage_error("golden: '" + dir + "' is not a directory");
    }

    int files = 0;
    for (const auto& type_name : all_type_names())
    {
        for (const std::string variant : {"default", "full"})
        {
            // A fresh PubSubType per value: getKey() serializes the key into a
            // buffer kept by the type, whose alignment padding is never rewritten.
            std::unique_ptr<dds::TopicDataType> type(make_pubsub_type(type_name));
            Sample sample(*type);
            if (variant == "full")
            {
                fill_full(type_name, sample.get());
            }
            std::string base = dir + "/" + type_name + "-" + variant;
            std::vector<uint8_t> payload = sample.serialize();
            write_file(base + ".cdr", payload.data(), payload.size());
            ++files;

            if (type->m_isGetKeyDefined)
            {
                eprosima::fastrtps::rtps::InstanceHandle_t handle;
                if (!type->getKey(sample.get(), &handle, false))
                {
                    throw Fatal(EXIT_FAILED, "getKey failed for " + type_name);
                }
                const auto& value = handle.value;
                std::string text = to_hex(static_cast<const uint8_t*>(value), 16) + "\n";
                write_file(base + ".keyhash", text.data(), text.size());
                ++files;
            }
        }
    }
    diag("golden: wrote " + std::to_string(files) + " files into " + dir);
    return EXIT_OK;
}

} // namespace peer
