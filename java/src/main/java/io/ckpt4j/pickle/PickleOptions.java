package io.ckpt4j.pickle;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * How to unpickle: which globals to allow, how to load persistent ids, what to call the input in
 * messages, and the resource limits. Immutable; build one with {@link #builder()}:
 *
 * <pre>{@code
 * PickleOptions options = PickleOptions.builder()
 *     .resolver(torchGlobals.orElse(GlobalResolver.refuseAll()))
 *     .persistentLoader(storages::load)
 *     .where("model.pt:archive/data.pkl")
 *     .build();
 * }</pre>
 */
public final class PickleOptions {
  /** The name of the input in messages when the caller gives none. */
  public static final String DEFAULT_WHERE = "pickle";

  private static final PickleOptions DEFAULTS = builder().build();

  private final GlobalResolver resolver;
  private final PersistentLoader persistentLoader;
  private final String where;
  private final PickleLimits limits;
  private final PickleRefusal refusal;
  private final Charset py2StringCharset;
  private final boolean allowCycles;
  private final PickleObserver observer;

  private PickleOptions(Builder b) {
    this.resolver = b.resolver;
    this.persistentLoader = b.persistentLoader;
    this.where = b.where;
    this.limits = b.limits;
    this.refusal = b.refusal;
    this.py2StringCharset = b.py2StringCharset;
    this.allowCycles = b.allowCycles;
    this.observer = b.observer;
  }

  /** Plain data only: every global refused, no persistent loader, default limits. */
  public static PickleOptions defaults() {
    return DEFAULTS;
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.resolver = resolver;
    b.persistentLoader = persistentLoader;
    b.where = where;
    b.limits = limits;
    b.refusal = refusal;
    b.py2StringCharset = py2StringCharset;
    b.allowCycles = allowCycles;
    b.observer = observer;
    return b;
  }

  /** Resolves GLOBAL, STACK_GLOBAL, INST and OBJ; default {@link GlobalResolver#refuseAll()}. */
  public GlobalResolver resolver() {
    return resolver;
  }

  /** Loads PERSID and BINPERSID ids, or {@code null}: then those opcodes are errors. */
  public PersistentLoader persistentLoader() {
    return persistentLoader;
  }

  /** Names the input in messages, e.g. "model.pt:archive/data.pkl". */
  public String where() {
    return where;
  }

  /** The resource limits. */
  public PickleLimits limits() {
    return limits;
  }

  /** Words the message for a refused global. */
  public PickleRefusal refusal() {
    return refusal;
  }

  /**
   * How Python 2 {@code str} values (STRING, BINSTRING, SHORT_BINSTRING) become Java strings;
   * default ISO-8859-1, which maps each byte to one char, so nothing is lost (re-encode as
   * ISO-8859-1 to get the bytes back). {@code torch.load} decodes them as UTF-8 by default:
   * choose UTF-8 to match it (invalid UTF-8 is then an error).
   */
  public Charset py2StringCharset() {
    return py2StringCharset;
  }

  /**
   * Whether a value may contain itself (a list appended to itself, say). Refused by default,
   * because code that walks the result recursively would never end; when allowed, the nesting
   * check does not follow references back to a container being walked, and walkers must track
   * the containers they have seen.
   */
  public boolean allowCycles() {
    return allowCycles;
  }

  /** Told every global and call site the pickle holds; default {@link PickleObserver#NONE}. */
  public PickleObserver observer() {
    return observer;
  }

  /** Builds {@link PickleOptions}. */
  public static final class Builder {
    private GlobalResolver resolver = GlobalResolver.refuseAll();
    private PersistentLoader persistentLoader;
    private String where = DEFAULT_WHERE;
    private PickleLimits limits = PickleLimits.DEFAULT;
    private PickleRefusal refusal = PickleRefusal.STANDARD;
    private Charset py2StringCharset = StandardCharsets.ISO_8859_1;
    private boolean allowCycles;
    private PickleObserver observer = PickleObserver.NONE;

    private Builder() {}

    /** See {@link PickleOptions#resolver()}. */
    public Builder resolver(GlobalResolver value) {
      resolver = Objects.requireNonNull(value, "resolver");
      return this;
    }

    /** See {@link PickleOptions#persistentLoader()}; {@code null} for none. */
    public Builder persistentLoader(PersistentLoader value) {
      persistentLoader = value;
      return this;
    }

    /** See {@link PickleOptions#where()}. */
    public Builder where(String value) {
      where = Objects.requireNonNull(value, "where");
      return this;
    }

    /** See {@link PickleOptions#limits()}. */
    public Builder limits(PickleLimits value) {
      limits = Objects.requireNonNull(value, "limits");
      return this;
    }

    /** See {@link PickleOptions#refusal()}. */
    public Builder refusal(PickleRefusal value) {
      refusal = Objects.requireNonNull(value, "refusal");
      return this;
    }

    /** See {@link PickleOptions#py2StringCharset()}. */
    public Builder py2StringCharset(Charset value) {
      py2StringCharset = Objects.requireNonNull(value, "py2StringCharset");
      return this;
    }

    /** See {@link PickleOptions#allowCycles()}. */
    public Builder allowCycles(boolean value) {
      allowCycles = value;
      return this;
    }

    /** See {@link PickleOptions#observer()}. */
    public Builder observer(PickleObserver value) {
      observer = Objects.requireNonNull(value, "observer");
      return this;
    }

    /** The options. */
    public PickleOptions build() {
      return new PickleOptions(this);
    }
  }
}
