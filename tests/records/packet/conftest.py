import pytest

from tests.records.packet.builders import PacketBuilder, demo_packet


@pytest.fixture
def demo():
    """(builder, packet) with every fate: groups, a conflict, withheld, redacted, unreadable."""
    return demo_packet()


@pytest.fixture
def builder():
    return PacketBuilder()
