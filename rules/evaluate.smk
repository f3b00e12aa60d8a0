# Evaluate stage: rules land with their issue.
