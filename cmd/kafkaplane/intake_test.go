package main

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
)

// TestListPagingExtremes pages topic and consumer lists with the largest
// CurrentPage an int64 holds, through the legacy SDK: an empty page, not a
// dropped connection.
func TestListPagingExtremes(t *testing.T) {
	m := startMain(t, lcFastQPS)
	c := kafkaClient(t, m.ListenAddr())
	id := createRunning(t, c, "2.2.0")
	for _, page := range []string{"9223372036854775807", "9223372036854775806", "922337203685477"} {
		tl := alikafka.CreateGetTopicListRequest()
		tl.InstanceId, tl.CurrentPage, tl.PageSize = id, page, "10000"
		tr, err := c.GetTopicList(tl)
		if err != nil || !tr.Success || len(tr.TopicList.TopicVO) != 0 {
			t.Fatalf("GetTopicList CurrentPage=%s: %v %+v", page, err, tr)
		}
		cl := alikafka.CreateGetConsumerListRequest()
		cl.InstanceId, cl.CurrentPage, cl.PageSize = id, requests.Integer(page), "10000"
		cr, err := c.GetConsumerList(cl)
		if err != nil || !cr.Success || len(cr.ConsumerList.ConsumerVO) != 0 {
			t.Fatalf("GetConsumerList CurrentPage=%s: %v %+v", page, err, cr)
		}
	}
	for _, cl := range clients(m.ListenAddr(), testKeyID, testKeySecret, testRegion) {
		r := cl.call(t, "2015-05-01", "ListUsers", map[string]string{"MaxItems": "9223372036854775807"})
		if r.status != 400 || r.code != "InvalidParameter.MaxItems" {
			t.Errorf("%s ListUsers MaxItems=MaxInt64: %+v", cl.name(), r)
		}
	}
}
