import pytest
import torch
import torch.nn.functional as F

from multigan.text.discriminators import CNNDiscriminator, Highway


def test_seqgan_defaults_are_the_papers():
    d = CNNDiscriminator(50, 20)
    assert [conv.kernel_size[0] for conv in d.convs] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20]
    assert sum(conv.out_channels for conv in d.convs) == 1720
    assert d.dropout.p == 0.25 and d.output.out_features == 2


def test_token_ids_and_one_hots_give_the_same_logits():
    torch.manual_seed(0)
    d = CNNDiscriminator(11, 6, embed_dim=4, filter_sizes=[2, 3], num_filters=[3, 4], num_rep=2, hidden=5,
                         num_outputs=1).eval()
    tokens = torch.randint(0, 11, (3, 6))
    torch.testing.assert_close(d(tokens), d(F.one_hot(tokens, 11).float()))
    assert d(tokens).shape == (3 * 2, 1)  # one logit per representation


def test_representations_are_scored_separately():
    torch.manual_seed(0)
    d = CNNDiscriminator(11, 6, embed_dim=4, filter_sizes=[2], num_filters=[3], num_rep=2, num_outputs=1).eval()
    tokens = torch.randint(0, 11, (2, 6))
    both = d(tokens).view(2, 2)
    with torch.no_grad():
        d.embedding[:, 4:] = 0.0  # change only the second representation
    changed = d(tokens).view(2, 2)
    torch.testing.assert_close(changed[:, 0], both[:, 0])
    assert not torch.allclose(changed[:, 1], both[:, 1])


def test_highway_formula():
    torch.manual_seed(0)
    highway, x = Highway(4), torch.randn(2, 4)
    gate = torch.sigmoid(highway.gate(x))
    torch.testing.assert_close(highway(x), gate * F.relu(highway.transform(x)) + (1 - gate) * x)


def test_l2_penalty_is_half_the_squared_norm_of_the_output_layer():
    d = CNNDiscriminator(11, 6, embed_dim=4, filter_sizes=[2], num_filters=[3])
    expected = 0.5 * (d.output.weight.pow(2).sum() + d.output.bias.pow(2).sum())
    assert d.l2_penalty().item() == pytest.approx(expected.item())


def test_prob_real_in_chunks_equals_one_pass():
    torch.manual_seed(0)
    d = CNNDiscriminator(11, 6, embed_dim=4, filter_sizes=[2, 3], num_filters=[3, 4]).eval()
    tokens = torch.randint(0, 11, (10, 6))
    expected = torch.softmax(d(tokens), dim=-1)[:, 1]
    torch.testing.assert_close(d.prob_real(tokens, batch_size=3), expected)


def test_filters_must_fit_the_sequence():
    with pytest.raises(ValueError, match="filter size 7 is longer than the sequences"):
        CNNDiscriminator(11, 6, filter_sizes=[2, 7], num_filters=[3, 3])
