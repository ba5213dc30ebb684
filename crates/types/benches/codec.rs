//! Encode and decode cost per type (XCDR1 with the encapsulation header).
//! `cargo bench -p sustainml-types --bench codec`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use serde::{de::DeserializeOwned, Serialize};
use sustainml_types::{codec, samples, MLModelImpl};

fn bench_type<T: Serialize + DeserializeOwned>(c: &mut Criterion, name: &str, value: &T) {
    let bytes = codec::encode(value).expect("encode");
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("encode", |b| b.iter(|| codec::encode(black_box(value))));
    group.bench_function("decode", |b| {
        b.iter(|| codec::decode::<T>(black_box(&bytes)).expect("decode"))
    });
    group.finish();
}

fn all(c: &mut Criterion) {
    bench_type(c, "TaskIdImpl", &samples::task_id());
    bench_type(c, "NodeStatusImpl", &samples::node_status());
    bench_type(c, "NodeControlImpl", &samples::node_control());
    bench_type(c, "UserInputImpl", &samples::user_input());
    bench_type(c, "MLModelMetadataImpl", &samples::ml_model_metadata());
    bench_type(c, "AppRequirementsImpl", &samples::app_requirements());
    bench_type(c, "HWConstraintsImpl", &samples::hw_constraints());
    bench_type(c, "MLModelImpl", &samples::ml_model());
    bench_type(c, "HWResourceImpl", &samples::hw_resource());
    bench_type(c, "CO2FootprintImpl", &samples::co2_footprint());
    bench_type(c, "RequestTypeImpl", &samples::request());
    bench_type(c, "ResponseTypeImpl", &samples::response());
    let big = MLModelImpl {
        raw_model: vec![7; 1 << 20],
        ..samples::ml_model()
    };
    bench_type(c, "MLModelImpl_1MiB", &big);
}

criterion_group!(benches, all);
criterion_main!(benches);
