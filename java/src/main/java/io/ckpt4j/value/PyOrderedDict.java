package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Python {@code collections.OrderedDict}: a {@link LinkedHashMap} (so it is a dict in the value
 * model) that also keeps the instance attributes BUILD gave it. PyTorch's {@code state_dict()}
 * is one, with a {@code _metadata} attribute holding each module's version.
 *
 * <p>Equality is the map's: attributes do not take part, as in Python's {@code ==}.
 */
public final class PyOrderedDict extends LinkedHashMap<Object, Object> implements PyBuildable {
  private static final long serialVersionUID = 1L;

  private final LinkedHashMap<String, Object> attributes = new LinkedHashMap<>();

  /** An empty ordered dict with no attributes. */
  public PyOrderedDict() {
    super();
  }

  /**
   * Instance attributes (Python's {@code __dict__}), e.g. {@code _metadata}; read-only view, in
   * the order BUILD gave them.
   */
  public Map<String, Object> attributes() {
    return Collections.unmodifiableMap(attributes);
  }

  /** Sets one instance attribute, e.g. {@code _metadata} for a state dict about to be written. */
  public void setAttribute(String name, Object value) {
    attributes.put(name, value);
  }

  /**
   * BUILD: {@code self.__dict__.update(state)}, as PyTorch's weights-only unpickler does; the
   * state must be a dict with str keys, or {@code None}.
   */
  @Override
  public void build(Object state) throws CheckpointException {
    if (state == null) {
      return;
    }
    if (!(state instanceof Map)) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          "OrderedDict state must be a dict of attributes, not "
          + PythonTypes.name(state));
    }
    for (Map.Entry<?, ?> e : ((Map<?, ?>) state).entrySet()) {
      if (!(e.getKey() instanceof String)) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            "OrderedDict attribute names must be str, not "
            + PythonTypes.name(e.getKey()));
      }
      attributes.put((String) e.getKey(), e.getValue());
    }
  }
}
