"""Settings a link can carry for every room of the page, none of them the room's default: the URL round trips
take them (test_urlstate.py in Python, test_story_e2e.py in the browser)."""

EXAMPLES = {
    "story": {"mlp_units": 84, "rf_layers": 4, "rf_kernel": 5, "pool_kind": "avg", "ws_side": 32},
    "conv": {"filter": "sobel_x", "stride": 2, "padding": "valid"},
    "pool": {"kind": "avg", "size": 3, "stride": 3},
    "studio": {"optimizer": "sgd", "learning_rate": 0.01, "batch_size": 32, "epochs": 2},
    "backprop": {"pooling": "average", "seed": 3, "lr": 0.1, "selected": [2, 0, 0, 1]},
    "losses": {"gamma": 1.0, "alpha": 0.5, "images": 3000},
    "optimizers": {"surface": "saddle", "steps": 100},
    "regularization": {"train_size": 500, "epochs": 20, "rate": 0.3, "place": "S4"},
    "networks": {"mlp": {"epochs": 2}, "seg": {"variant": "pairs"}},
}
