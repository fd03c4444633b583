"""Per-session state: one place for the keys, their defaults and the rules that tie them together.

Everything of one user lives in ``st.session_state`` (a browser tab); nothing here is global.
Invariant: the trainer, when there is one, was built from the current dataset, split and
architecture. Changing any of those discards it (the Architecture page asks first).
"""

from __future__ import annotations

import weakref

import streamlit as st

import nn
from dashboard.architecture import build
from dashboard.common.text import display_name, md_escape
from dashboard.compare import runs
from dashboard.data import datasets
from dashboard.predict import results
from dashboard.share import link
from dashboard.training import loop

DATA_SPEC = "app.data_spec"  # which dataset: {"source": ..., plus generator params or file name}
DATASET = "app.dataset"
SPLIT_SETTINGS = "app.split_settings"
SPLIT = "app.split"
DATA_VERSION = "app.data_version"  # bumped whenever the dataset or the split changes
ARCH = "app.arch"  # hidden layers, activations, output, loss, init, seed
TRAIN_SETTINGS = "app.train_settings"
TRAINER = "app.trainer"
FLASHES = "app.flashes"  # messages to show once, on the next page drawn
URL_READ = "app.url_read"  # the link's settings were applied (once per session)
PREDICT_SAMPLE = "app.predict_sample"  # the Predict form's last sample: (data version, values)
MANUAL_STEPS = "app.manual_steps"  # single-sample steps applied by hand: (network ref, count)
# The pages' own keys (each page's module names them after these; widgets use "page.name" keys
# where they are drawn).
DATA_LEAKS = "app.data_leaks"  # (data version, features that alone predict the target)
CSV_TARGET_FILE = "data.target_file"  # the upload whose target the picker shows
ARCH_DRAFT = "arch.draft"
ARCH_DRAFT_BASE = "arch.draft_base"  # the applied architecture the draft started from
ARCH_PENDING_TRAINING = "arch.pending_training"  # a preset's training settings, until applied
TRAINING_LOCK = "train.lock"  # this session's lock around training: see train_ui.training_lock
MODEL_UPLOADS = "predict.model_uploads"  # file id -> (kind, message) of uploads already handled
INSIDE_FIGURES = "inside.figures"  # per chart slot: what it showed, when, and the figure
INSIDE_FEATURES = "inside.features"  # the tabular surface's two features: (data version, i, j)
INSIDE_LAST_STEP = "inside.last_step"  # what the last "Apply this update" did
INSIDE_TRUST = "inside.trust"
COMPARE_RUNS = "compare.runs"
COMPARE_COUNTER = "compare.counter"
COMPARE_SEEDS = "compare.seeds"
COMPARE_CV_JOB = "compare.cv_job"  # the cross-validation running (dashboard.compare.cv.CVJob)
COMPARE_CV = "compare.cv"  # the last cross-validation's result, with what it was run on
COMPARE_LEARNING = "compare.learning"  # the last learning curve, with what it was run on
COMPARE_SEEN = "compare.seen"  # the run last kept: (network ref, epochs)
# The workspace store (dashboard/store/store_ui.py): the token in the address, what was saved.
WORKSPACE = "app.workspace"  # the workspace token (None without a store)
DATA_RAW = "app.data_raw"  # an uploaded CSV's bytes, while it is the dataset (kept with it)
STORE_SAVED = "app.store_saved"  # item -> digest of what the store holds
STORE_MARKS = "app.store_marks"  # item -> what the session held when it was last saved
STORE_SAID = "app.store_said"  # store problems already told (once per session)


def init() -> None:
    """Fill in whatever this session lacks (every page calls this first)."""
    ss = st.session_state
    ss.setdefault(FLASHES, [])
    ss.setdefault(DATA_VERSION, 0)
    first = link.default_experiment()
    ss.setdefault(SPLIT_SETTINGS, first.split)
    ss.setdefault(ARCH, first.arch)
    ss.setdefault(TRAIN_SETTINGS, first.train)
    ss.setdefault(TRAINER, None)
    if DATASET not in ss:
        ss[DATA_SPEC] = dict(datasets.DEFAULT_SPEC)
        ss[DATASET] = datasets.load_spec(ss[DATA_SPEC])
        ss[SPLIT] = datasets.make_split(ss[DATASET], ss[SPLIT_SETTINGS])


# The widgets that show the split, architecture and training settings (the pages' key prefixes).
SETTING_WIDGETS = ("data.split.", "arch.w.", *(f"train.{n}" for n in (*nn.config.TRAINING, "pace")))


def forget_widgets(*prefixes: str) -> None:
    """Drop every widget value whose key starts with one of ``prefixes``: the widgets reseed
    from the app's state when next drawn (after the settings changed in code)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
        del st.session_state[key]


def flash(message: str, kind: str = "info") -> None:
    """Queue a message for the next page drawn (kind: info, success, warning, error)."""
    st.session_state[FLASHES].append((kind, message))


def pop_flashes() -> list[tuple[str, str]]:
    """The queued messages, emptying the queue."""
    messages = list(st.session_state.get(FLASHES, []))
    st.session_state[FLASHES] = []
    return messages


def dataset():
    """The current dataset."""
    return st.session_state[DATASET]


def data_spec() -> dict:
    """How the current dataset was chosen."""
    return st.session_state[DATA_SPEC]


def split():
    """The current train/validation/test split."""
    return st.session_state[SPLIT]


def split_settings() -> dict:
    """The current split settings (a setting newer than the session's, say a workspace
    saved before it existed, at its default)."""
    return {**nn.config.split_defaults(), **st.session_state[SPLIT_SETTINGS]}


def arch() -> dict:
    """The current (applied) architecture settings."""
    return st.session_state[ARCH]


def train_settings() -> dict:
    """The current training settings."""
    return st.session_state[TRAIN_SETTINGS]


def trainer() -> loop.Trainer | None:
    """The trainer, or None when nothing has been built yet."""
    return st.session_state.get(TRAINER)


def is_trained() -> bool:
    """True when there is a network with at least one epoch behind it."""
    t = trainer()
    return t is not None and t.epochs_trained > 0


def n_classes() -> int:
    """Number of classes of the current dataset (0 for a number to predict)."""
    return len(dataset().class_names)


def task() -> str:
    """The current dataset's task: "classification" or "regression" (``nn.task``)."""
    return dataset().task


def n_outputs() -> int:
    """The network's output nodes for the current dataset: one per class, one for a number."""
    return dataset().n_outputs


def n_inputs() -> int:
    """The network's input nodes for the current split: one per number, one per category."""
    return split().preprocessor.n_inputs


def current_network_config(arch_settings: dict | None = None) -> dict:
    """The network config for the current data and (given or applied) architecture."""
    ds = dataset()
    return build.network_config(arch_settings or arch(), n_inputs(), ds.n_outputs, ds.task)


def arch_task_problem() -> str | None:
    """Why the applied architecture's output layer does not suit the dataset's task (it cannot
    be built then), or None. ``fit_arch_to_task`` is the fix."""
    if build.suits_task(arch(), task()):
        return None
    what = "a number" if task() == build.REGRESSION else "a class"
    fixed = build.fit_to_task(arch(), task(), link.default_experiment(data_spec()).arch)
    return (
        f"This dataset's target is {what}, and a {build.output_text(arch())} does not suit it: "
        f"the network needs a {build.output_text(fixed)}."
    )


def fit_arch_to_task(quiet: bool = False) -> None:
    """Give the applied architecture the output and loss its dataset's task starts with (the
    hidden layers stay); says so unless ``quiet``."""
    before = arch()
    if build.suits_task(before, task()):
        return
    fixed = build.fit_to_task(before, task(), link.default_experiment(data_spec()).arch)
    set_arch(fixed, "its output layer was made for the other task.")
    if not quiet:
        flash(f"The output layer now suits the data: a {build.output_text(fixed)}.")


def discard_trainer(reason: str) -> None:
    """Drop the trainer; tell the user when that threw away trained epochs."""
    t = trainer()
    if t is not None and t.epochs_trained > 0:
        flash(f"The trained network ({t.epochs_trained} epochs) was discarded: {reason}", "warning")
    st.session_state[TRAINER] = None


def untouched() -> bool:
    """True while the split, architecture and training settings are still those the current
    dataset started with (nobody changed them): they then follow the next dataset."""
    start, now = link.default_experiment(data_spec()), current_experiment()
    return (start.split, start.arch, start.train) == (now.split, now.arch, now.train)


def follow_message(spec: dict, task_name: str) -> str:
    """What the Data page says when the settings follow a new dataset."""
    if spec.get("source") == datasets.ARTICLE_SOURCE:
        return "the article's network and training on raw inputs, as the article did."
    if task_name == build.REGRESSION:
        return (
            "this target is a number, so the modern network (ReLU, Adam) gets one linear output "
            "with squared error and early stopping, on standardized inputs. Change anything "
            "and your settings stay."
        )
    return (
        "the modern network (ReLU, softmax, Adam) on standardized inputs; the article's setup "
        "is for Iris. Change anything and your settings stay."
    )


def set_dataset(dataset, spec: dict, quiet: bool = False, raw: bytes | None = None) -> None:
    """Switch to a new dataset (split with the current settings, or with the new dataset's own
    defaults while the settings are untouched); ``ValueError`` keeps the old. ``raw``: an
    uploaded file's bytes, kept with the workspace.

    The output layer follows the task: changed settings keep their hidden layers, but an
    output and loss made for the other task (softmax and cross-entropy on a number, a linear
    output with squared error or Huber on classes) become the new dataset's, with a message.
    """
    follow = untouched()
    start = link.default_experiment(spec)
    settings = datasets.fit_split_settings(dataset, start.split if follow else split_settings())
    new_split = datasets.make_split(dataset, settings)
    if follow and not quiet and (start.arch, start.train) != (arch(), train_settings()):
        flash("The settings follow the dataset: " + follow_message(spec, dataset.task))
    st.session_state[SPLIT_SETTINGS] = dict(settings)
    if follow:
        st.session_state[ARCH] = start.arch
        st.session_state[TRAIN_SETTINGS] = start.train
        forget_widgets(*SETTING_WIDGETS)
    elif dataset.task != task() or not build.suits_task(arch(), dataset.task):
        before = arch()
        fixed = build.fit_to_task(before, dataset.task, start.arch)
        if fixed != before:
            st.session_state[ARCH] = fixed
            forget_widgets("arch.w.")
            if not quiet:
                what = "a number" if dataset.task == build.REGRESSION else "a class"
                flash(
                    f"The output layer follows the task: this target is {what}, so the "
                    f"{build.output_text(before)} became a {build.output_text(fixed)}. Your "
                    "hidden layers and training settings stay (Architecture page to change it)."
                )
    st.session_state[DATASET] = dataset
    st.session_state[DATA_SPEC] = dict(spec)
    st.session_state[DATA_RAW] = raw
    st.session_state[SPLIT] = new_split
    st.session_state[DATA_VERSION] += 1
    discard_trainer("it was trained on the previous dataset.")
    sync_url()


def set_split_settings(settings: dict) -> None:
    """Re-split the current dataset; ``ValueError`` keeps the old split."""
    new_split = datasets.make_split(dataset(), settings)
    changed = {k for k in nn.config.SPLIT if settings.get(k) != split_settings().get(k)}
    st.session_state[SPLIT_SETTINGS] = dict(settings)
    st.session_state[SPLIT] = new_split
    st.session_state[DATA_VERSION] += 1
    if changed == {"standardize"}:
        now = "on" if settings["standardize"] else "off"
        discard_trainer(
            f"Standardize is now {now}, so the network's inputs are scaled differently."
        )
    else:
        discard_trainer("the split changed, so its test rows may have been training rows.")
    sync_url()


def set_arch(arch_settings: dict, reason: str = "the architecture changed.") -> None:
    """Apply new architecture settings; discards the trainer."""
    st.session_state[ARCH] = {
        **arch_settings,
        "hidden": list(arch_settings["hidden"]),
        "activations": list(arch_settings["activations"]),
    }
    discard_trainer(reason)
    sync_url()


def set_train_settings(settings: dict) -> None:
    """Store training settings; the trainer picks them up at its next chunk."""
    st.session_state[TRAIN_SETTINGS] = dict(settings)
    t = trainer()
    if t is not None:
        t.settings = dict(settings)
    sync_url()


def ensure_trainer() -> loop.Trainer:
    """The trainer, built from the current data and architecture if there is none (an output
    layer made for the other task is first fitted to this one: see ``fit_arch_to_task``)."""
    t = trainer()
    if t is None:
        fit_arch_to_task()
        t = new_trainer(nn.Network.from_config(current_network_config()))
    return t


def new_trainer(net: nn.Network, tag: str = "") -> loop.Trainer:
    """Install a trainer for ``net`` on the current split and training settings.

    A new network gets the split's preprocessing; an uploaded one keeps its own, and the rows
    it trains on are prepared with it.
    """
    s = split()
    if net.preprocessor is None:
        net.preprocessor = s.preprocessor
    t = loop.Trainer(
        net=net,
        X_train=results.network_inputs(net, s, dataset(), "train"),
        y_train=s.y_train,
        X_val=results.network_inputs(net, s, dataset(), "val"),
        y_val=s.y_val,
        settings=dict(train_settings()),
        tag=tag,
        data_version=st.session_state[DATA_VERSION],
    )
    st.session_state[TRAINER] = t
    return t


def reproduce_article() -> loop.Trainer:
    """Iris, the article's split, network and training settings; training started."""
    article = link.default_experiment({"source": datasets.ARTICLE_SOURCE})
    st.session_state[SPLIT_SETTINGS] = article.split
    set_dataset(datasets.load_spec(article.spec), article.spec, quiet=True)
    st.session_state[ARCH] = article.arch
    st.session_state[TRAIN_SETTINGS] = article.train
    st.session_state[TRAINER] = None
    t = ensure_trainer()
    t.tag = "article"
    loop.start(t)
    return t


def dataset_label() -> str:
    """A short name of the current dataset (may contain a user's file name, shown as
    ``display_name`` shows names; escape it before Markdown)."""
    spec = data_spec()
    if spec.get("source") == datasets.CSV:
        return f"CSV file {display_name(spec.get('file_name', ''), 200)}".strip()
    label = datasets.SOURCES.get(spec.get("source"), str(spec.get("source")))
    return label.split(" (")[0]


# ---- the settings in the URL ----
# Read once when a session starts and rewritten whenever a setting changes, so the address bar
# always holds a link that recreates the experiment, on whichever page it is copied. Widgets
# with bind="query-params" would not do: Streamlit drops a page's bound parameters when the
# user moves to another page, and this app seeds its widgets from its own state.


def current_experiment() -> link.Experiment:
    """The session's current settings."""
    return link.Experiment(
        spec=dict(data_spec()), split=dict(split_settings()), arch=arch(), train=train_settings()
    )


def apply_url_once() -> None:
    """Apply the settings in the URL the first time a session draws a page (checked first)."""
    ss = st.session_state
    if ss.get(URL_READ):
        return
    ss[URL_READ] = True
    params = {k: v for k, v in st.query_params.to_dict().items() if k in link.PARAMS}
    if not params:
        return
    spec, split_set, messages = link.decode_data(params, link.default_experiment())
    try:
        new_dataset = datasets.load_spec(spec)
        new_split = datasets.make_split(new_dataset, split_set)
    except ValueError as exc:
        messages.append(
            f"The link's dataset and split do not work together ({exc}); using the defaults."
        )
        first = link.default_experiment()
        spec, split_set = first.spec, first.split
        new_dataset = datasets.load_spec(spec)
        new_split = datasets.make_split(new_dataset, split_set)
    ss[DATA_SPEC], ss[SPLIT_SETTINGS] = spec, split_set
    ss[DATASET], ss[SPLIT] = new_dataset, new_split
    ss[DATA_VERSION] += 1
    arch_set, train_set, more = link.decode_model(
        params,
        link.default_experiment(spec),
        new_split.preprocessor.n_inputs,
        new_dataset.n_outputs,
        len(new_split.y_train),
        len(new_split.y_val) > 0,
        new_dataset.task,
    )
    ss[ARCH], ss[TRAIN_SETTINGS], ss[TRAINER] = arch_set, train_set, None
    refused = messages + more
    if refused:  # one box that lists them all, not one box per value
        items = "\n".join(f"- {md_escape(message, max_len=400)}" for message in refused)
        flash(f"Some values in the link could not be used:\n\n{items}", "warning")
    flash("The settings from the link are loaded: press Start on the Train page to run them.")


# Called after every change of the settings, the dataset or the Predict form's sample (the
# workspace store saves then: dashboard/store/store_ui.py adds itself), so that a change made
# while a page is drawn is kept even when the visitor reloads before the next page run.
AFTER_CHANGE: list = []


def changed() -> None:
    """Tell the ``AFTER_CHANGE`` hooks that the session's state changed."""
    for hook in AFTER_CHANGE:
        hook()


def sync_url() -> None:
    """Write the current settings into the URL (only ours; only what changed), then call the
    ``AFTER_CHANGE`` hooks."""
    if not st.session_state.get(URL_READ):
        return
    wanted = link.encode(current_experiment())
    params = st.query_params
    for key in link.PARAMS:
        value = wanted.get(key)
        if value is None:
            if key in params:
                del params[key]
        elif params.get(key) != value:
            params[key] = value
    changed()


def predict_sample() -> list[float] | None:
    """The Predict form's last sample for the current dataset (data units), or None."""
    stored = st.session_state.get(PREDICT_SAMPLE)
    if stored is None or stored[0] != st.session_state[DATA_VERSION]:
        return None
    return list(stored[1])


def set_predict_sample(values) -> None:
    """Remember the Predict form's sample (other pages show it on the decision surface)."""
    st.session_state[PREDICT_SAMPLE] = (
        st.session_state[DATA_VERSION],
        [float(v) for v in values],
    )
    changed()


def manual_steps(net) -> int:
    """How many single-sample steps were applied by hand to ``net`` (Inside page, Backprop)."""
    stored = st.session_state.get(MANUAL_STEPS)
    return stored[1] if stored is not None and stored[0]() is net else 0


def count_manual_step(net) -> int:
    """Note one more step by hand on ``net``; returns the new count."""
    count = manual_steps(net) + 1
    st.session_state[MANUAL_STEPS] = (weakref.ref(net), count)
    return count


# ---- the runs kept for Compare ----


def remember_finished_run() -> None:
    """Keep the session's run once it has ended (finished, stopped early or diverged)."""
    t = trainer()
    if t is None or t.running or t.status not in runs.ENDED or t.epochs_trained == 0:
        return
    seen = st.session_state.get(COMPARE_SEEN)
    if seen is not None and seen[0]() is t.net and seen[1] == t.epochs_trained:
        return  # kept already (or kept and then forgotten on purpose)
    st.session_state[COMPARE_SEEN] = (weakref.ref(t.net), t.epochs_trained)
    records = st.session_state.setdefault(COMPARE_RUNS, [])
    if not any(old["net"]() is t.net for old in records):
        st.session_state[COMPARE_COUNTER] = st.session_state.get(COMPARE_COUNTER, 0) + 1
    name = f"run {st.session_state[COMPARE_COUNTER]}"
    record = runs.make_record(name, t, dataset_label(), split_settings(), split(), dataset())
    for old in runs.add_record(records, record):
        flash(
            f"{old['name']} was dropped from the comparison: the session keeps the last "
            f"{runs.MAX_RUNS} runs.",
            "info",
        )


def run_records() -> list[dict]:
    """The kept runs, oldest first."""
    return st.session_state.get(COMPARE_RUNS, [])


def forget_runs() -> None:
    """Drop every kept run (the Forget button)."""
    st.session_state[COMPARE_RUNS] = []


def leaks(dataset, split) -> list:
    """The features of an uploaded table that alone predict the target on the training rows
    (``nn.columns.leaks``), worked out once per dataset and split."""
    stored = st.session_state.get(DATA_LEAKS)
    version = st.session_state[DATA_VERSION]
    if stored is not None and stored[0] == version:
        return stored[1]
    found = []
    if dataset.kinds is not None:  # a table read by load_table
        table = dataset.table(split.raw_train)
        found = nn.columns.leaks(table, split.y_train, dataset.feature_kinds())
    st.session_state[DATA_LEAKS] = (version, found)
    return found
