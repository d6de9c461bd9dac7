"""``cupyx.scipy``: the sparse module only."""
