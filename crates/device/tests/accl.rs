// Protects: the MemryX-shaped accelerator API: SyncAccl send/receive with timeouts naming the port, run over a batch and port assignments; AsyncAccl input/output callbacks, wait and stop; MultiStreamAsyncAccl with callbacks told their stream index.
mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sustainml_device::{
    require_device, AsyncAccl, DeviceError, LoadedModel, MultiStreamAsyncAccl, StreamOutput,
    SyncAccl, TensorData,
};

const SECOND: Duration = Duration::from_secs(5);

fn load(name: &str) -> Box<dyn LoadedModel> {
    require_device("CPU")
        .expect("CPU")
        .load(&common::model(name))
        .expect("a shipped model loads")
}

/// Frame i of the mlp: the pattern shifted by i, so frames differ.
fn frame(i: usize) -> Vec<TensorData> {
    let mut t = TensorData::pattern(&[1, 64]);
    t.data.iter_mut().for_each(|v| *v += i as f32 / 10.0);
    vec![t]
}

// Frames sent are received in order with the outputs run() gives; ports name the model's tensors.
#[test]
fn sync_send_receive_and_run_agree() {
    let reference = load("mlp");
    let mut accl = SyncAccl::new(load("mlp"));
    let inports = accl.inport_assignment();
    assert_eq!(inports.len(), 1);
    assert_eq!(
        (inports[0].index, inports[0].name.as_str()),
        (0, "features")
    );
    assert_eq!(inports[0].shape, vec![1, 64]);
    let outports = accl.outport_assignment();
    assert_eq!((outports.len(), outports[0].shape.clone()), (1, vec![1, 4]));
    for i in 0..3 {
        accl.send(frame(i), SECOND).expect("send");
    }
    for i in 0..3 {
        let out = accl.receive(SECOND).expect("receive");
        assert_eq!(out, reference.run(&frame(i)).expect("run"), "frame {i}");
    }
    let batch: Vec<_> = (0..4).map(frame).collect();
    let outs = accl.run(&batch).expect("batch");
    assert_eq!(outs.len(), 4);
    assert_eq!(outs[3], reference.run(&frame(3)).expect("run"));
}

// Receiving with nothing sent times out with an error naming the output port; a bad frame is refused at send.
#[test]
fn sync_timeouts_and_bad_frames_are_typed_errors() {
    let mut accl = SyncAccl::new(load("mlp"));
    let err = accl
        .receive(Duration::from_millis(30))
        .expect_err("nothing sent");
    assert!(
        matches!(err, DeviceError::Timeout { waited_ms: 30, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("mlp.onnx") && msg.contains("output port 0"),
        "{msg}"
    );
    let err = accl
        .send(vec![TensorData::pattern(&[1, 65])], SECOND)
        .expect_err("wrong shape");
    assert!(matches!(err, DeviceError::BadInput { .. }), "{err:?}");
    assert!(err.to_string().contains("\"features\""), "{err}");
    let err = accl.run(&[vec![]]).expect_err("no tensors");
    assert!(matches!(err, DeviceError::BadInput { .. }));
}

// Sending without receiving fills the queues, and then send times out naming the input port.
#[test]
fn sync_send_times_out_when_nobody_receives() {
    let mut accl = SyncAccl::new(load("mlp"));
    let mut timed_out = None;
    for _ in 0..200 {
        if let Err(e) = accl.send(frame(0), Duration::from_millis(20)) {
            timed_out = Some(e);
            break;
        }
    }
    let err = timed_out.expect("the queues are bounded");
    assert!(matches!(err, DeviceError::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string().contains("input port 0 (\"features\")"),
        "{err}"
    );
    // What was queued is still received.
    accl.receive(SECOND).expect("the first frame's result");
}

fn collector() -> (
    Arc<Mutex<Vec<StreamOutput>>>,
    impl FnMut(StreamOutput) + Send + 'static,
) {
    let seen: Arc<Mutex<Vec<StreamOutput>>> = Arc::default();
    let sink = Arc::clone(&seen);
    (seen, move |out| sink.lock().expect("lock").push(out))
}

// The input callback is called until it returns None; every result reaches the output callback in order; wait counts them.
#[test]
fn async_callbacks_run_every_frame_in_order() {
    let reference = load("mlp");
    let mut accl = AsyncAccl::new(load("mlp"));
    let (seen, on_output) = collector();
    let mut i = 0;
    accl.connect_input(move || {
        i += 1;
        Ok((i <= 5).then(|| frame(i - 1)))
    })
    .expect("input");
    accl.connect_output(on_output).expect("output");
    assert_eq!(accl.wait().expect("wait"), 5);
    let seen = seen.lock().expect("lock");
    assert_eq!(
        seen.iter().map(|o| o.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    for (i, out) in seen.iter().enumerate() {
        let expected = reference.run(&frame(i)).expect("run");
        assert_eq!(out.outputs.as_ref().expect("output"), &expected);
    }
}

// An input callback's error ends the stream; the frames before it are delivered and wait returns the error naming the stream.
#[test]
fn async_input_error_ends_the_stream() {
    let mut accl = AsyncAccl::new(load("mlp"));
    let (seen, on_output) = collector();
    let mut i = 0;
    accl.connect_output(on_output).expect("output");
    accl.connect_input(move || {
        i += 1;
        if i > 2 {
            Err("camera unplugged".into())
        } else {
            Ok(Some(frame(i)))
        }
    })
    .expect("input");
    let err = accl.wait().expect_err("the callback failed");
    assert!(
        matches!(err, DeviceError::InputCallback { stream: 0, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("camera unplugged"), "{err}");
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

// stop() ends an endless input and discards what is pending; wait before connecting, or connecting twice, are typed errors.
#[test]
fn async_stop_discards_pending_frames() {
    let mut accl = AsyncAccl::new(load("kws_cnn"));
    let err = accl.wait().expect_err("nothing connected");
    assert!(
        matches!(
            err,
            DeviceError::NotConnected {
                callback: "input",
                ..
            }
        ),
        "{err:?}"
    );
    let (called_tx, called_rx) = mpsc::channel();
    accl.connect_input(move || {
        let _ = called_tx.send(());
        Ok(Some(vec![TensorData::pattern(&[1, 1, 49, 10])]))
    })
    .expect("input");
    let err = accl.connect_input(|| Ok(None)).expect_err("twice");
    assert!(matches!(
        err,
        DeviceError::AlreadyConnected {
            callback: "input",
            ..
        }
    ));
    let err = accl.wait().expect_err("no output yet");
    assert!(
        matches!(
            err,
            DeviceError::NotConnected {
                callback: "output",
                ..
            }
        ),
        "{err:?}"
    );
    // Without an output callback the frames only queue: the input callback is called a
    // bounded number of times, then blocks.
    called_rx
        .recv_timeout(SECOND)
        .expect("the input callback runs");
    let (seen, on_output) = collector();
    accl.connect_output(on_output).expect("output");
    while seen.lock().expect("lock").len() < 3 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let delivered = accl.stop().expect("stop");
    let count = || seen.lock().expect("lock").len() as u64;
    assert_eq!(delivered, count(), "every delivered result was counted");
    assert!(called_rx.try_iter().count() > 0);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        called_rx.try_iter().count(),
        0,
        "stop ends the input callback"
    );
    assert_eq!(
        count(),
        delivered,
        "nothing is delivered after stop returns"
    );
}

// n streams: each input callback is asked with its stream index, each result comes back with it, numbered per stream.
#[test]
fn multistream_callbacks_are_told_their_stream() {
    let reference = load("mlp");
    let mut accl = MultiStreamAsyncAccl::new(load("mlp"), 3).expect("three streams");
    assert_eq!(accl.stream_count(), 3);
    let mut sent = [0usize; 3];
    let seen: Arc<Mutex<Vec<(usize, StreamOutput)>>> = Arc::default();
    let sink = Arc::clone(&seen);
    accl.connect_streams(
        move |stream| {
            // Stream s sends s + 1 frames, each the frame numbered by its stream.
            sent[stream] += 1;
            Ok((sent[stream] <= stream + 1).then(|| frame(stream)))
        },
        move |stream, out| sink.lock().expect("lock").push((stream, out)),
    )
    .expect("connect");
    assert_eq!(accl.wait().expect("wait"), 1 + 2 + 3);
    let seen = seen.lock().expect("lock");
    for stream in 0..3 {
        let mine: Vec<&StreamOutput> = seen
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, o)| o)
            .collect();
        assert_eq!(
            mine.iter().map(|o| o.seq).collect::<Vec<_>>(),
            (0..=stream as u64).collect::<Vec<_>>()
        );
        let expected = reference.run(&frame(stream)).expect("run");
        assert!(mine
            .iter()
            .all(|o| o.outputs.as_ref().expect("output") == &expected));
    }
    assert!(matches!(
        MultiStreamAsyncAccl::new(load("mlp"), 0),
        Err(DeviceError::NoStreams)
    ));
}
