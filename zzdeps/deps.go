package zzdeps

import (
	_ "github.com/IBM/sarama"
	_ "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	_ "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	_ "github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	_ "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/twmb/franz-go/pkg/kadm"
	_ "github.com/twmb/franz-go/pkg/kfake"
	_ "github.com/twmb/franz-go/pkg/kgo"
	_ "github.com/twmb/franz-go/pkg/kmsg"
	_ "github.com/twmb/franz-go/pkg/kversion"
	_ "modernc.org/sqlite"
)
