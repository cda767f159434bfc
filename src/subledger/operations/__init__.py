"""The business operations, one module each; ``base.run_operation`` makes each one transaction."""
