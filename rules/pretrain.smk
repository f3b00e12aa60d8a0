# Pretrain stage: rules land with their issue.
