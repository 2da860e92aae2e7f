package io.ckpt4j.save;

import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.TorchValues;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Trees built in Java from LibTorch tensors, for the save tests: every dtype with every bit
 * pattern that matters, views, ties, Parameters, lazy bits, a nested training checkpoint. Values
 * are random bits (seeded) or bit patterns chosen to be awkward; what they must come back as is
 * read from the tensors themselves (see {@link Sidecar}), never written down here.
 */
final class Trees {
  private final Random random;

  Trees(long seed) {
    random = new Random(seed);
  }

  /** A uint8 tensor holding {@code data}. */
  static Tensor bytes(byte[] data) {
    Tensor t = torch.empty(new long[] {data.length}, new TensorOptions(torch.ScalarType.Byte), null);
    if (data.length > 0) new BytePointer(t.data_ptr()).capacity(data.length).put(data);
    return t;
  }

  /** {@code numel} elements of {@code dtype} with random bits (bools 0 or 1), shaped {@code shape}. */
  Tensor random(DType dtype, long... shape) {
    long numel = Arrays.stream(shape).reduce(1, Math::multiplyExact);
    byte[] data = new byte[Math.toIntExact(numel * dtype.itemSize())];
    random.nextBytes(data);
    if (dtype == DType.BOOL) {
      for (int i = 0; i < data.length; i++) data[i] &= 1;
    }
    return bytes(data).view(ScalarTypes.of(dtype)).reshape(shape);
  }

  /** Every dtype ckpt4j writes, random bits, plus every bit pattern of the 8- and 16-bit floats. */
  PyOrderedDict everyDtype() {
    PyOrderedDict d = new PyOrderedDict();
    for (DType t : DType.values()) d.put(t.pythonName(), random(t, 4, 3));
    for (DType t : List.of(DType.FLOAT8_E4M3FN, DType.FLOAT8_E5M2)) {
      byte[] all = new byte[256];
      for (int i = 0; i < all.length; i++) all[i] = (byte) i;
      d.put(t.pythonName() + "_all_bits", bytes(all).view(ScalarTypes.of(t)));
    }
    for (DType t : List.of(DType.FLOAT16, DType.BFLOAT16)) {
      ByteBuffer all = ByteBuffer.allocate(2 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 1 << 16; i++) all.putShort((short) i);
      d.put(t.pythonName() + "_all_bits", bytes(all.array()).view(ScalarTypes.of(t)));
    }
    int[] float32Specials = {0, 0x80000000, 0x3f800000, 0x7fc00001, 0x7f800001, 0xffc12345,
        0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff, 0x80000001};
    ByteBuffer f32 = ByteBuffer.allocate(float32Specials.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int bits : float32Specials) f32.putInt(bits);
    d.put("float32_specials", bytes(f32.array()).view(torch.ScalarType.Float));
    long[] longSpecials = {Long.MIN_VALUE, Long.MAX_VALUE, -1, 0, 0x7ff8000000000001L};
    ByteBuffer i64 = ByteBuffer.allocate(longSpecials.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : longSpecials) i64.putLong(v);
    d.put("int64_extremes", bytes(i64.array()).view(torch.ScalarType.Long));
    d.put("float64_nan_payloads", bytes(i64.array()).view(torch.ScalarType.Double));
    return d;
  }

  /** Views of two bases: every geometry a state dict meets, and some it should not. */
  Map<Object, Object> views() {
    Tensor base = random(DType.FLOAT64, 6, 8);
    Map<Object, Object> d = new LinkedHashMap<>();
    d.put("base", base);
    d.put("transposed", base.t());
    d.put("narrow_cols_2_to_5", base.narrow(1, 2, 3));
    d.put("row_1", base.select(0, 1));
    d.put("cols_step_2", base.slice(1, new LongOptional(1), new LongOptional(7), 2));
    d.put("diagonal", base.diagonal());
    d.put("permuted_3d", base.view(2, 3, 8).permute(2, 0, 1));
    d.put("overlapping_windows", base.reshape(48).as_strided(new long[] {4, 3}, new long[] {2, 1},
        new LongOptional(1)));
    d.put("expanded_row", base.select(0, 5).expand(3, 8));
    d.put("zero_dim_at_19", base.select(0, 2).select(0, 3));
    d.put("empty_at_40", base.narrow(0, 5, 0));
    Tensor ints = random(DType.INT64, 2, 3, 4);
    d.put("ints_permuted", ints.permute(1, 2, 0));
    d.put("ints_scalar_expanded", ints.select(0, 1).select(0, 2).select(0, 3).expand(2, 2));
    return d;
  }

  /** Tied weights: one object under several keys, other handles of one tensor, shared storages. */
  PyOrderedDict ties() {
    Tensor w = random(DType.FLOAT32, 5, 3);
    Tensor w2 = random(DType.FLOAT32, 4, 4);
    Parameter p = Parameter.of(w2);
    PyOrderedDict d = new PyOrderedDict();
    d.put("embed.weight", w);
    d.put("lm_head.weight", w);
    d.put("lm_head_other_handle", new Tensor(w));
    d.put("p", p);
    d.put("p_again", p);
    d.put("p_other_parameter", new Parameter(w2, false));
    d.put("w2_plain", w2);
    d.put("w2_row", w2.select(0, 1));
    return d;
  }

  /** requires_grad, Parameters, and the lazy conj/neg bits. */
  Map<Object, Object> gradsAndLazyBits() {
    Map<Object, Object> d = new LinkedHashMap<>();
    d.put("parameter_requires_grad", new Parameter(random(DType.FLOAT32, 3), true));
    d.put("parameter_frozen", new Parameter(random(DType.BFLOAT16, 2, 2), false));
    d.put("parameter_uint16", new Parameter(random(DType.UINT16, 3), false));
    d.put("leaf_requires_grad", random(DType.FLOAT32, 3).requires_grad_(true));
    d.put("conj", random(DType.COMPLEX64, 3).conj());
    d.put("neg", random(DType.FLOAT32, 3)._neg_view());
    d.put("conj_and_neg", random(DType.COMPLEX128, 2).conj()._neg_view());
    return d;
  }

  /** A training checkpoint: model state dict with _metadata, optimizer state, scalars of every kind. */
  Map<Object, Object> trainingCheckpoint() {
    PyOrderedDict model = new PyOrderedDict();
    Tensor w = random(DType.FLOAT32, 4, 3);
    Tensor b = random(DType.FLOAT32, 4);
    model.put("fc.weight", w);
    model.put("fc.bias", b);
    model.put("bn.running_mean", random(DType.FLOAT32, 4));
    model.put("bn.num_batches_tracked", random(DType.INT64));
    PyOrderedDict metadata = new PyOrderedDict();
    metadata.put("", new LinkedHashMap<>(Map.of("version", 1L)));
    metadata.put("fc", new LinkedHashMap<>(Map.of("version", 1L)));
    metadata.put("bn", new LinkedHashMap<>(Map.of("version", 2L)));
    model.setAttribute("_metadata", metadata);

    Map<Object, Object> state = new LinkedHashMap<>();
    for (long i = 0; i < 2; i++) {
      Map<Object, Object> s = new LinkedHashMap<>();
      s.put("step", random(DType.FLOAT32));
      s.put("exp_avg", i == 0 ? random(DType.FLOAT32, 4, 3) : random(DType.FLOAT32, 4));
      s.put("exp_avg_sq", random(DType.FLOAT32, 4, 3));
      state.put(i, s);
    }
    Map<Object, Object> group = new LinkedHashMap<>();
    group.put("lr", 0.001);
    group.put("betas", PyTuple.of(0.9, 0.999));
    group.put("eps", 1e-8);
    group.put("weight_decay", 0.0);
    group.put("amsgrad", false);
    group.put("foreach", null);
    group.put("params", new ArrayList<>(List.of(0L, 1L)));
    Map<Object, Object> optimizer = new LinkedHashMap<>();
    optimizer.put("state", state);
    optimizer.put("param_groups", new ArrayList<>(List.of(group)));

    Map<Object, Object> ckpt = new LinkedHashMap<>();
    ckpt.put("model", model);
    ckpt.put("optimizer", optimizer);
    ckpt.put("epoch", 7L);
    ckpt.put("global_step", BigInteger.ONE.shiftLeft(70).negate());
    ckpt.put("best_metric", Double.NaN);
    ckpt.put("neg_zero", -0.0);
    ckpt.put("name", "run-\u00e4\u65e5-\ud83d\ude00");
    ckpt.put("device", new TorchValues.TorchDevice("cuda", 1));
    ckpt.put("cpu_device", new TorchValues.TorchDevice("cpu", null));
    ckpt.put("dtype", DType.BFLOAT16);
    ckpt.put("complex", new TorchValues.PyComplex(1.5, -0.0));
    ckpt.put("blob", PyBytes.of(new byte[] {0, 1, (byte) 0xff}));
    ckpt.put("empty_blob", PyBytes.EMPTY);
    ckpt.put("tags", new LinkedHashSet<>(List.of("a", "b")));
    ckpt.put("rng_state", random(DType.UINT8, 32));
    ckpt.put((Object) 3L, "int key");
    ckpt.put(PyTuple.of("tuple", 1L), "tuple key");
    ckpt.put("empty_dict", new PyOrderedDict());
    ckpt.put("empty_list", new ArrayList<>());
    ckpt.put("empty_tuple", PyTuple.EMPTY);
    return ckpt;
  }

  /** Storages larger than one write chunk, and views at odd byte offsets into them. */
  Map<Object, Object> chunked() {
    Tensor big = random(DType.UINT8, 3 * (int) StorageStream.CHUNK_BYTES + 5);
    Tensor ints = random(DType.INT32, (int) StorageStream.CHUNK_BYTES / 2 + 3);
    Map<Object, Object> d = new LinkedHashMap<>();
    d.put("big", big);
    d.put("tail", big.narrow(0, 2 * StorageStream.CHUNK_BYTES - 7, StorageStream.CHUNK_BYTES));
    d.put("ints", ints);
    return d;
  }

  /** Untyped views of one storage in two dtypes: one UntypedStorage, as torch.save writes it. */
  Map<Object, Object> untypedViews() {
    Tensor words = random(DType.UINT16, 8);
    Map<Object, Object> d = new LinkedHashMap<>();
    d.put("u16", words);
    d.put("u32", words.view(torch.ScalarType.UInt32));
    d.put("u64_tail", words.narrow(0, 4, 4).view(torch.ScalarType.UInt64));
    d.put("f8", words.view(torch.ScalarType.Float8_e5m2));
    return d;
  }

  /** Empty tensors: empty storages and zero-size views of full ones. */
  Map<Object, Object> empties() {
    Map<Object, Object> d = new LinkedHashMap<>();
    d.put("empty", random(DType.FLOAT32, 0));
    d.put("empty_2x0x3", random(DType.INT16, 2, 0, 3));
    Tensor full = random(DType.FLOAT32, 6);
    d.put("full", full);
    d.put("zero_size_view_at_3", full.narrow(0, 3, 0));
    return d;
  }
}
