"""Tests for cnnlib.book.plots: what each helper draws and returns, and how it refuses bad input."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import same_color
from matplotlib.figure import Figure

from cnnlib.book.plots import (
    DIGIT_CMAP,
    DIVERGING_CMAP,
    figure_to_png,
    plot_confusion_matrix,
    plot_history,
    plot_probabilities,
    show_digits,
    show_feature_maps,
    show_filters,
    show_matrix,
    show_misclassified,
    show_receptive_fields,
)

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def texts(ax):
    return [t.get_text() for t in ax.texts]


class FakeHistory:
    """Stands in for cnnlib.train.History: a .history dict and an .epoch list."""

    def __init__(self, history):
        self.history = history
        self.epoch = list(range(1, len(history["loss"]) + 1))


HISTORY = {
    "loss": [1.0, 0.6, 0.4, 0.3, 0.2],
    "accuracy": [0.6, 0.8, 0.9, 0.95, 0.97],
    "val_loss": [1.1, 0.7, 0.5, 0.6, 0.8],
    "val_accuracy": [0.55, 0.75, 0.85, 0.88, 0.86],
}


# --------------------------------------------------------------------------- show_digits


def test_show_digits_returns_a_figure_with_one_image_per_digit(digits):
    fig = show_digits(digits)
    assert isinstance(fig, Figure)
    assert len(image_axes(fig)) == len(digits)


def test_show_digits_draws_the_input_pixels_in_the_digit_colormap(digits):
    fig = show_digits(digits)
    image = image_axes(fig)[2].images[0]
    np.testing.assert_array_equal(image.get_array(), digits[2])
    assert image.get_cmap().name == DIGIT_CMAP


def test_show_digits_accepts_a_channel_axis(digits):
    fig = show_digits(digits[:, None])
    np.testing.assert_array_equal(image_axes(fig)[0].images[0].get_array(), digits[0])


def test_show_digits_has_no_ticks(digits):
    ax = image_axes(show_digits(digits))[0]
    assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0


def test_show_digits_arranges_ncols_per_row(digits):
    fig = show_digits(digits, ncols=4)
    assert image_axes(fig)[0].get_subplotspec().get_gridspec().get_geometry() == (2, 4)


def test_show_digits_writes_labels_under_the_images(digits):
    fig = show_digits(digits, labels=[3, 1, 4, 1, 5, 9])
    assert [ax.get_xlabel() for ax in image_axes(fig)] == ["3", "1", "4", "1", "5", "9"]


def test_show_digits_titles_read_pred_then_true(digits):
    fig = show_digits(digits, labels=[3, 1, 4, 1, 5, 9], predictions=[3, 7, 4, 1, 5, 9])
    assert [ax.get_title() for ax in image_axes(fig)[:2]] == ["3 (3)", "7 (1)"]


def test_show_digits_colours_wrong_predictions_red(digits):
    fig = show_digits(digits, labels=[3, 1, 4, 1, 5, 9], predictions=[3, 7, 4, 1, 5, 9])
    right, wrong = image_axes(fig)[:2]
    assert same_color(wrong.title.get_color(), "tab:red")
    assert not same_color(right.title.get_color(), "tab:red")


def test_show_digits_draws_into_a_given_figure(digits):
    fig = plt.figure()
    assert show_digits(digits, fig=fig) is fig
    assert len(image_axes(fig)) == len(digits)


def test_show_digits_clears_a_reused_figure(digits):
    fig = show_digits(digits)
    show_digits(digits[:2], fig=fig)
    assert len(fig.axes) == 2


def test_show_digits_rejects_multichannel_images():
    with pytest.raises(ValueError, match=r"\(N, H, W\) or \(N, 1, H, W\).*\(2, 3, 28, 28\)"):
        show_digits(np.zeros((2, 3, 28, 28)))


def test_show_digits_rejects_labels_of_the_wrong_length(digits):
    with pytest.raises(ValueError, match=r"labels must have one entry per image.*\(6,\)"):
        show_digits(digits, labels=[1, 2])


# --------------------------------------------------------------------------- show_filters


def test_show_filters_single_input_channel_uses_a_compact_grid():
    fig = show_filters(np.ones((8, 1, 5, 5)), ncols=4)
    axes = image_axes(fig)
    assert len(axes) == 8
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 4)


def test_show_filters_has_one_row_per_output_and_one_column_per_input():
    w = np.arange(3 * 2 * 3 * 3, dtype=float).reshape(3, 2, 3, 3)
    fig = show_filters(w)
    axes = image_axes(fig)
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (3, 2)
    np.testing.assert_array_equal(axes[2 * 2 + 1].images[0].get_array(), w[2, 1])


def test_show_filters_shares_a_colour_scale_symmetric_around_zero():
    w = np.zeros((4, 1, 3, 3))
    w[0, 0, 0, 0], w[3, 0, 1, 1] = -0.5, 2.0
    for ax in image_axes(show_filters(w)):
        assert ax.images[0].get_clim() == (-2.0, 2.0)
        assert ax.images[0].get_cmap().name == DIVERGING_CMAP


def test_show_filters_adds_a_colour_bar():
    fig = show_filters(np.ones((2, 1, 3, 3)))
    assert len(fig.axes) == 3


def test_show_filters_labels_rows_and_columns_once():
    axes = image_axes(show_filters(np.ones((2, 3, 3, 3))))
    assert [ax.get_title() for ax in axes] == ["in 0", "in 1", "in 2", "", "", ""]
    assert [ax.get_ylabel() for ax in axes] == ["out 0", "", "", "out 1", "", ""]


def test_show_filters_accepts_a_layer_with_a_weight_param():
    class Layer:
        params = {"weight": np.ones((3, 1, 5, 5))}

    assert len(image_axes(show_filters(Layer()))) == 3


def test_show_filters_rejects_a_2d_weight():
    with pytest.raises(ValueError, match=r"\(out_channels, in_channels, kH, kW\).*\(10, 800\)"):
        show_filters(np.zeros((10, 800)))


# --------------------------------------------------------------------------- feature maps


def test_show_feature_maps_draws_each_channel():
    maps = np.random.default_rng(1).normal(size=(5, 6, 6))
    axes = image_axes(show_feature_maps(maps))
    assert len(axes) == 5
    np.testing.assert_array_equal(axes[4].images[0].get_array(), maps[4])


def test_show_feature_maps_accepts_a_batch_of_one():
    assert len(image_axes(show_feature_maps(np.ones((1, 3, 4, 4))))) == 3


def test_show_feature_maps_uses_one_symmetric_scale():
    maps = np.zeros((2, 3, 3))
    maps[1, 0, 0] = -4.0
    for ax in image_axes(show_feature_maps(maps)):
        assert ax.images[0].get_clim() == (-4.0, 4.0)


def test_show_feature_maps_titles_default_to_channel_numbers():
    axes = image_axes(show_feature_maps(np.ones((2, 3, 3))))
    assert [ax.get_title() for ax in axes] == ["channel 0", "channel 1"]


def test_show_feature_maps_uses_given_titles():
    axes = image_axes(show_feature_maps(np.ones((2, 3, 3)), titles=["edge", "blob"]))
    assert [ax.get_title() for ax in axes] == ["edge", "blob"]


def test_show_feature_maps_rejects_a_batch_of_several_images():
    with pytest.raises(ValueError, match=r"\(C, H, W\) or \(1, C, H, W\).*maps\[0\]"):
        show_feature_maps(np.ones((4, 3, 5, 5)))


def test_show_feature_maps_rejects_titles_of_the_wrong_length():
    with pytest.raises(ValueError, match="expected 2, received 1"):
        show_feature_maps(np.ones((2, 3, 3)), titles=["only one"])


# --------------------------------------------------------------------------- show_matrix


def test_show_matrix_returns_axes_with_the_array_as_image():
    a = np.arange(6).reshape(2, 3)
    ax = show_matrix(a)
    assert isinstance(ax, Axes)
    np.testing.assert_array_equal(ax.images[0].get_array(), a)


def test_show_matrix_writes_each_value_in_its_cell():
    ax = show_matrix(np.array([[0, 1], [2, -3]]))
    assert texts(ax) == ["0", "1", "2", "-3"]
    assert [t.get_position() for t in ax.texts][1] == (1, 0)


def test_show_matrix_formats_fractions_with_two_decimals():
    assert texts(show_matrix(np.array([[0.5, 0.25]]))) == ["0.50", "0.25"]


def test_show_matrix_uses_the_given_format():
    assert texts(show_matrix(np.array([[0.5, 0.25]]), fmt=".1f")) == ["0.5", "0.2"]


def test_show_matrix_can_skip_annotations():
    assert texts(show_matrix(np.eye(3), annotate=False)) == []


def test_show_matrix_centres_signed_arrays_at_zero():
    image = show_matrix(np.array([[1.0, 0.0, -2.0]])).images[0]
    vmin, vmax = image.get_clim()
    assert vmin == -vmax and vmax >= 2.0
    assert image.get_cmap().name == DIVERGING_CMAP


def test_show_matrix_draws_into_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert show_matrix(np.eye(2), ax=right) is right
    assert not left.images and right.images


def test_show_matrix_rejects_a_3d_array():
    with pytest.raises(ValueError, match=r"2-D array \(H, W\), received \(1, 5, 5\)"):
        show_matrix(np.zeros((1, 5, 5)))


# --------------------------------------------------------------------------- plot_history


def best_marker(ax):
    return next(line for line in ax.lines if line.get_label().startswith("best"))


def test_plot_history_has_one_panel_per_metric():
    fig = plot_history(HISTORY)
    assert isinstance(fig, Figure)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]


def test_plot_history_draws_training_and_validation_per_epoch():
    ax = plot_history(HISTORY, metrics=("loss",)).axes[0]
    lines = {line.get_label(): line for line in ax.lines}
    np.testing.assert_array_equal(lines["training"].get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(lines["training"].get_ydata(), HISTORY["loss"])
    np.testing.assert_array_equal(lines["validation"].get_ydata(), HISTORY["val_loss"])


def test_plot_history_marks_the_epoch_with_the_lowest_validation_loss():
    marker = best_marker(plot_history(HISTORY).axes[0])
    assert list(marker.get_xdata()) == [3] and list(marker.get_ydata()) == [0.5]
    assert "epoch 3" in marker.get_label()


def test_plot_history_marks_the_epoch_with_the_highest_validation_accuracy():
    marker = best_marker(plot_history(HISTORY).axes[1])
    assert list(marker.get_xdata()) == [4]


def test_plot_history_draws_a_vertical_line_at_the_best_epoch():
    ax = plot_history(HISTORY).axes[0]
    assert any(list(line.get_xdata()) == [3, 3] for line in ax.lines)


def test_plot_history_puts_the_best_epoch_in_the_legend():
    ax = plot_history(HISTORY).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training", "validation", "best validation (epoch 3)"]


def test_plot_history_accepts_a_history_object():
    marker = best_marker(plot_history(FakeHistory(HISTORY)).axes[0])
    assert list(marker.get_xdata()) == [3]


def test_plot_history_without_validation_draws_no_marker():
    ax = plot_history({"loss": [0.5, 0.3]}, metrics=("loss",)).axes[0]
    assert [line.get_label() for line in ax.lines] == ["training"]


def test_plot_history_uses_integer_epoch_ticks():
    fig = plot_history(HISTORY)
    fig.canvas.draw()
    ticks = fig.axes[0].get_xticks()
    assert np.all(ticks == np.round(ticks))


def test_plot_history_rejects_a_missing_metric():
    with pytest.raises(ValueError, match=r"'accuracy' is not in the history.*\['loss'\]"):
        plot_history({"loss": [0.5], "val_loss": [0.6]})


def test_plot_history_rejects_something_without_a_history_dict():
    with pytest.raises(ValueError, match=r"\.history dict.*received list"):
        plot_history([0.5, 0.3])


# --------------------------------------------------------------------------- confusion matrix


CM = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])


def test_plot_confusion_matrix_returns_the_figure_and_draws_the_counts():
    fig = plot_confusion_matrix(CM)
    assert isinstance(fig, Figure)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), CM)


def test_plot_confusion_matrix_writes_every_count():
    assert texts(plot_confusion_matrix(CM).axes[0]) == ["5", "1", "0", "2", "7", "1", "0", "0", "4"]


def test_plot_confusion_matrix_normalizes_each_true_row():
    ax = plot_confusion_matrix(CM, normalize=True).axes[0]
    np.testing.assert_allclose(ax.images[0].get_array().sum(axis=1), [1, 1, 1])
    assert texts(ax)[:3] == ["83.3%", "16.7%", "0"]


def test_plot_confusion_matrix_labels_axes_and_classes():
    ax = plot_confusion_matrix(CM, class_names=["a", "b", "c"]).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")


def test_plot_confusion_matrix_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert plot_confusion_matrix(CM, ax=ax) is fig
    assert ax.images


def test_plot_confusion_matrix_rejects_a_non_square_matrix():
    with pytest.raises(ValueError, match=r"square \(K, K\) matrix, received \(3, 2\)"):
        plot_confusion_matrix(np.ones((3, 2)))


def test_plot_confusion_matrix_rejects_the_wrong_number_of_class_names():
    with pytest.raises(ValueError, match="expected 3, received 2"):
        plot_confusion_matrix(CM, class_names=["a", "b"])


# --------------------------------------------------------------------------- misclassified


Y_TRUE = np.array([0, 1, 2, 3, 4, 5])
Y_PRED = np.array([0, 7, 2, 3, 9, 5])


def test_show_misclassified_draws_only_the_wrong_examples(digits):
    axes = image_axes(show_misclassified(digits, Y_TRUE, Y_PRED))
    assert len(axes) == 2
    np.testing.assert_array_equal(axes[1].images[0].get_array(), digits[4])


def test_show_misclassified_titles_read_pred_then_true_in_red(digits):
    axes = image_axes(show_misclassified(digits, Y_TRUE, Y_PRED))
    assert [ax.get_title() for ax in axes] == ["pred 7 (true 1)", "pred 9 (true 4)"]
    assert all(same_color(ax.title.get_color(), "tab:red") for ax in axes)


def test_show_misclassified_shows_the_predicted_probability(digits):
    probs = np.full((6, 10), 0.05)
    probs[1, 7] = 0.55
    title = image_axes(show_misclassified(digits, Y_TRUE, Y_PRED, probs=probs))[0].get_title()
    assert title == "pred 7 (true 1)\np = 0.55"


def test_show_misclassified_draws_at_most_n(digits):
    fig = show_misclassified(digits, Y_TRUE, Y_PRED, n=1)
    assert len(image_axes(fig)) == 1
    assert "first 1 shown" in fig.get_suptitle()


def test_show_misclassified_says_so_when_everything_is_right(digits):
    fig = show_misclassified(digits, Y_TRUE, Y_TRUE)
    assert not image_axes(fig)
    assert "No misclassified examples" in texts(fig.axes[0])[0]


def test_show_misclassified_rejects_probs_of_the_wrong_shape(digits):
    with pytest.raises(ValueError, match=r"probs must have shape \(N, K\) = \(6, K\)"):
        show_misclassified(digits, Y_TRUE, Y_PRED, probs=np.ones(10))


# --------------------------------------------------------------------------- probabilities


PROBS = np.array([0.05, 0.1, 0.6, 0.05, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0])


def bars(fig):
    return fig.axes[0].patches


def test_plot_probabilities_draws_one_bar_per_class():
    fig = plot_probabilities(PROBS)
    assert isinstance(fig, Figure)
    np.testing.assert_allclose([bar.get_height() for bar in bars(fig)], PROBS)


def test_plot_probabilities_highlights_the_argmax():
    colours = [bar.get_facecolor() for bar in bars(plot_probabilities(PROBS))]
    assert same_color(colours[2], "tab:blue")
    assert sum(same_color(c, "tab:blue") for c in colours) == 1


def test_plot_probabilities_marks_a_wrong_prediction_red_and_the_true_class_green():
    colours = [bar.get_facecolor() for bar in bars(plot_probabilities(PROBS, true_label=4))]
    assert same_color(colours[2], "tab:red") and same_color(colours[4], "tab:green")


def test_plot_probabilities_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert plot_probabilities(PROBS[None], ax=ax) is fig
    assert len(ax.patches) == 10


def test_plot_probabilities_rejects_several_images():
    with pytest.raises(ValueError, match=r"\(K,\) or \(1, K\), received \(2, 10\).*probs\[i\]"):
        plot_probabilities(np.ones((2, 10)) / 10)


def test_plot_probabilities_rejects_an_unknown_true_label():
    with pytest.raises(ValueError, match=r"true_label must be a class in 0\.\.9, received 10"):
        plot_probabilities(PROBS, true_label=10)


# --------------------------------------------------------------------------- figure_to_png


def test_figure_to_png_returns_png_bytes_and_leaves_the_figure_open():
    fig = show_matrix(np.eye(2)).figure
    data = figure_to_png(fig)
    assert isinstance(data, bytes) and data.startswith(b"\x89PNG\r\n\x1a\n")
    assert plt.fignum_exists(fig.number)


def test_figure_to_png_scales_with_dpi():
    fig = plt.figure(figsize=(2, 1))
    width = int.from_bytes(figure_to_png(fig, dpi=50)[16:20], "big")
    assert width == 100


def test_figure_to_png_rejects_axes():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"expects a matplotlib Figure.*ax\.figure"):
        figure_to_png(ax)


# --------------------------------------------------------------------------- show_receptive_fields


def _square(top, left, size, shape=(28, 28)):
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + size, left : left + size] = True
    return mask


def _outlines(ax):
    return [p for p in ax.patches if not p.get_fill()]


def test_show_receptive_fields_outlines_each_field_around_its_pixels(digits):
    ax = show_receptive_fields(digits[0], [_square(10, 12, 5), _square(8, 10, 9)])
    first, second = _outlines(ax)
    assert first.get_xy() == (11.5, 9.5) and (first.get_width(), first.get_height()) == (5, 5)
    assert second.get_xy() == (9.5, 7.5) and second.get_width() == 9


def test_show_receptive_fields_puts_each_size_in_the_legend(digits):
    ax = show_receptive_fields(digits[0], [_square(0, 0, 5), _square(0, 0, 10)],
                               labels=["conv 1", "pool"])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["conv 1: 5×5", "pool: 10×10"]


def test_show_receptive_fields_draws_into_a_given_axes(digits):
    fig, ax = plt.subplots()
    assert show_receptive_fields(digits[0], [_square(3, 3, 3)], ax=ax) is ax
    assert len(ax.images) == 1


def test_show_receptive_fields_rejects_a_mask_of_another_shape(digits):
    with pytest.raises(ValueError, match=r"field 1 must have the image's shape \(28, 28\), "
                                         r"received \(24, 24\)"):
        show_receptive_fields(digits[0], [_square(0, 0, 3), np.ones((24, 24), dtype=bool)])


def test_show_receptive_fields_rejects_an_empty_mask(digits):
    with pytest.raises(ValueError, match="field 0 selects no pixel.*at least one True"):
        show_receptive_fields(digits[0], [np.zeros((28, 28), dtype=bool)])


def test_show_receptive_fields_rejects_a_batch_of_images(digits):
    with pytest.raises(ValueError, match=r"one 2-D image \(H, W\), received \(6, 28, 28\)"):
        show_receptive_fields(digits, [_square(0, 0, 3)])


def test_show_receptive_fields_rejects_mismatched_labels(digits):
    with pytest.raises(ValueError, match="one entry per field: expected 2, received 1"):
        show_receptive_fields(digits[0], [_square(0, 0, 3), _square(0, 0, 5)], labels=["a"])
# --------------------------------------------------------------------------- optimiser paths


def _bowl(x, y):
    return x**2 + 10 * y**2


def test_plot_optimiser_paths_draws_one_line_per_path():
    from cnnlib.book.plots import plot_optimiser_paths

    paths = {"a": [[0.5, 0.5], [0.2, 0.1]], "b": np.zeros((3, 2))}
    fig = plot_optimiser_paths(_bowl, paths)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[:2] == ["a", "b"]


def test_plot_optimiser_paths_uses_given_axes():
    from cnnlib.book.plots import plot_optimiser_paths

    fig, ax = plt.subplots()
    assert plot_optimiser_paths(_bowl, {"a": [[0.0, 0.0]]}, ax=ax) is fig


def test_plot_optimiser_paths_rejects_bad_path_shape():
    from cnnlib.book.plots import plot_optimiser_paths

    with pytest.raises(ValueError, match=r"path 'a' must have shape \(T, 2\)"):
        plot_optimiser_paths(_bowl, {"a": np.zeros((3, 3))})


def test_plot_optimiser_paths_rejects_empty_paths():
    from cnnlib.book.plots import plot_optimiser_paths

    with pytest.raises(ValueError, match="non-empty mapping"):
        plot_optimiser_paths(_bowl, {})


# --- plot_histories ---------------------------------------------------------------------


def _two_runs():
    a = {"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.7, 0.9],
         "accuracy": [0.5, 0.8, 0.9], "val_accuracy": [0.5, 0.7, 0.6]}
    b = {"loss": [1.0, 0.6], "val_loss": [1.0, 0.8], "accuracy": [0.4, 0.7],
         "val_accuracy": [0.45, 0.72]}
    return {"a": a, "b": b}


def test_plot_histories_draws_a_training_and_a_validation_line_per_run():
    from cnnlib.book.plots import plot_histories

    fig = plot_histories(_two_runs())
    lines = [line for line in fig.axes[0].lines if len(line.get_xdata()) > 1]
    assert len(lines) == 4  # two runs, training and validation each
    plt.close(fig)


def test_plot_histories_marks_each_runs_best_validation_epoch():
    from cnnlib.book.plots import plot_histories

    fig = plot_histories(_two_runs(), metrics=("accuracy",))
    dots = [(line.get_xdata()[0], line.get_ydata()[0]) for line in fig.axes[0].lines
            if len(line.get_xdata()) == 1]
    assert (2, 0.7) in dots and (2, 0.72) in dots
    plt.close(fig)


def test_plot_histories_rejects_a_missing_metric():
    from cnnlib.book.plots import plot_histories

    with pytest.raises(ValueError, match="run 'a' has no values for 'error'"):
        plot_histories(_two_runs(), metrics=("error",))


def test_plot_histories_rejects_an_empty_mapping():
    from cnnlib.book.plots import plot_histories

    with pytest.raises(ValueError, match="non-empty mapping"):
        plot_histories({})
