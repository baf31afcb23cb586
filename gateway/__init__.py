"""The GraphQL gateway. It imports nameko only for its standalone RPC client, which needs no eventlet patching."""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
