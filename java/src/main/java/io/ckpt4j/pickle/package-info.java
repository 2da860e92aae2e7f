/**
 * Python's pickle format without Python: a restricted unpickler that never runs code, and a
 * protocol 2 pickler.
 *
 * <p>{@link io.ckpt4j.pickle.PickleReader} interprets every opcode of protocols 0 to 5 (except
 * the extension registry and out-of-band buffers) into a small value model: {@code null},
 * {@link java.lang.Boolean}, {@link java.lang.Long} or {@link java.math.BigInteger},
 * {@link java.lang.Double}, {@link java.lang.String}, {@link io.ckpt4j.value.PyBytes},
 * {@link io.ckpt4j.value.PyTuple}, {@link java.util.ArrayList}, {@link java.util.LinkedHashMap},
 * {@link java.util.LinkedHashSet}, {@link io.ckpt4j.value.PyOrderedDict} and
 * {@link io.ckpt4j.value.PyObject}. Globals go through a {@link io.ckpt4j.pickle.GlobalResolver}
 * the caller supplies (see {@link io.ckpt4j.pickle.GlobalResolver#orElse} for chains); persistent
 * ids through a {@link io.ckpt4j.pickle.PersistentLoader}; limits are
 * {@link io.ckpt4j.pickle.PickleLimits}.
 *
 * <p>{@link io.ckpt4j.pickle.PickleWriter} writes the same model back as Python's pickler would,
 * with a hook ({@link io.ckpt4j.pickle.PickleWriter.Custom}) for values it does not know.
 */
package io.ckpt4j.pickle;
