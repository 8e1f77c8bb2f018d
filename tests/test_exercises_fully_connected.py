"""Tests for cnnlib.book.exercises.fully_connected (Chapter 3's checkers)."""


from cnnlib.book import exercises


def _linear(x, weight, bias):
    return x @ weight.T + bias


def _linear_backward(grad_out, x, weight):
    return grad_out @ weight, grad_out.T @ x, grad_out.sum(axis=0)


def test_check_linear_forward_passes_a_correct_function():
    result = exercises.check_linear_forward(_linear)
    assert result.passed and "all 4 random cases" in result.message


def test_check_linear_forward_catches_a_missing_return():
    result = exercises.check_linear_forward(lambda x, weight, bias: None)
    assert not result.passed and "forget to return" in result.message


def test_check_linear_forward_catches_a_wrong_shape():
    result = exercises.check_linear_forward(lambda x, weight, bias: (x @ weight.T).T)
    assert not result.passed and "has shape (2, 1), expected (1, 2)" in result.message


def test_check_linear_forward_catches_wrong_values():
    result = exercises.check_linear_forward(lambda x, weight, bias: x @ weight.T)
    assert not result.passed and "wrong values" in result.message
    assert "bias is added" in result.message


def test_check_linear_forward_catches_modified_input():
    def in_place(x, weight, bias):
        x *= 1.0001
        return x @ weight.T + bias

    result = exercises.check_linear_forward(in_place)
    assert not result.passed and "changed its input 'x' in place" in result.message


def test_check_linear_backward_passes_a_correct_function():
    assert exercises.check_linear_backward(_linear_backward).passed


def test_check_linear_backward_catches_an_unsummed_bias_gradient():
    result = exercises.check_linear_backward(
        lambda grad_out, x, weight: (grad_out @ weight, grad_out.T @ x, grad_out))
    assert not result.passed and "return value 3 has shape" in result.message


def test_check_linear_backward_catches_an_averaged_weight_gradient():
    result = exercises.check_linear_backward(
        lambda grad_out, x, weight: (grad_out @ weight, grad_out.T @ x / len(x),
                                     grad_out.sum(axis=0)))
    assert not result.passed and "N times too small" in result.message


def test_check_linear_backward_catches_a_wrong_count_of_return_values():
    result = exercises.check_linear_backward(lambda grad_out, x, weight: (grad_out @ weight,))
    assert not result.passed and "expected 3 return value(s), got 1" in result.message
